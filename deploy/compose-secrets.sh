#!/bin/sh
# Write the secret files compose.yaml reads into ./secrets (git-ignored), once: existing files are kept.
# Random passwords for PostgreSQL, Valkey, the edge, the webhooks and Grafana; the URLs built from them. GitHub App
# keys (github_*_key), the model key and the agents' tokens are yours: this leaves them empty for you to fill
# (`rig tokens create --subject agent:<pool> --scope events:write …`, `rig acl apply` for the Valkey users).
# Compose (without swarm) bind-mounts each file as it is, owner and mode included, and the containers run as
# non-root users: so the files are readable (0644) and the folder is not (0700), which keeps other users of this
# host out while the containers can read what is mounted into them.
set -eu
cd "$(dirname "$0")/.."
mkdir -p secrets
chmod 700 secrets
random() { python3 -c 'import secrets; print(secrets.token_urlsafe(36))'; }
put() { [ -s "secrets/$1" ] || { printf '%s' "$2" > "secrets/$1"; chmod 644 "secrets/$1"; }; }
put postgres_password "$(random)"
put valkey_password "$(random)"
put edge_secret "$(random)"
put sandbox_webhook_secret "$(random)"
put grafana_admin_password "$(random)"
put database_url "postgresql://rig:$(cat secrets/postgres_password)@postgres:5432/rig"
put valkey_url "redis://default:$(cat secrets/valkey_password)@valkey:6379/0"
put webhook_secrets "[\"$(cat secrets/sandbox_webhook_secret)\"]"
for name in github_conductor_key github_dev_key github_review_key anthropic_api_key; do
  [ -e "secrets/$name" ] || { : > "secrets/$name"; chmod 644 "secrets/$name"; }
done
for pool in dev_e_node dev_e_python dev_e_dotnet dev_e_base review_e; do
  [ -e "secrets/agent_${pool}_token" ] || { : > "secrets/agent_${pool}_token"; chmod 644 "secrets/agent_${pool}_token"; }
  put "agent_${pool}_valkey_url" "$(cat secrets/valkey_url)"
done
echo "secrets ready in ./secrets; fill in the GitHub App keys, the model key and the agents' tokens"
