#!/bin/sh
# Secrets arrive as files (compose secrets, mounted Secrets): NAME__FILE=/run/secrets/x sets NAME to the file's
# content for the process this execs, so no secret is written in compose.yaml or an image. A missing file stops
# the container with a message rather than starting with an empty credential.
set -eu
for pair in $(env | sed -n 's/^\([A-Za-z0-9_]*\)__FILE=.*/\1/p'); do
  file=$(printenv "${pair}__FILE")
  if [ ! -r "$file" ]; then
    echo "entrypoint: ${pair}__FILE names $file, which cannot be read: create it (deploy/compose-secrets.sh)" >&2
    exit 1
  fi
  value=$(cat "$file")
  if [ -n "$value" ]; then export "$pair=$value"; fi
  unset "${pair}__FILE"
done
exec "$@"
