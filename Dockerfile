# syntax=docker/dockerfile:1.7
# Images of rig-conductor, one file, several targets (`make images` builds them all):
#   service       every service and the edge; the one to run is RIG_SERVICE (and RIG_PORT), or the command
#   sandbox       the service image plus git and Node.js, for the demo's GitHub stand-in
#   agent-base    the agent runtime with git, Node.js, bubblewrap and the Claude Code and Codex CLIs (pinned)
#   agent-node, agent-python, agent-dotnet   agent-base plus each stack's tools
# Base images are pinned to exact versions; pin digests as well in your registry mirror if you need them.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# The uv that wrote uv.lock here (a lock may use features older uv cannot read).
FROM ghcr.io/astral-sh/uv:0.13.10 AS uv

FROM node:22.12.0-bookworm-slim AS node

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
# The workspace stays where it was installed (editable, as `make run` has it): services find their SQL migrations
# next to their package (services/<name>/migrations), which a wheel would leave behind.
RUN uv sync --frozen --all-packages --no-dev

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --gid 10001 rig \
 && useradd --uid 10001 --gid rig --home-dir /home/rig --create-home --shell /usr/sbin/nologin rig
COPY --from=build /app /app
COPY topology.toml /app/topology.toml
COPY deploy/docker/entrypoint.sh /usr/local/bin/rig-entrypoint
COPY deploy/docker/healthcheck.py /usr/local/bin/rig-healthcheck
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 RIG_TOPOLOGY=/app/topology.toml RIG_BIND_HOST=0.0.0.0 \
    RIG_DATA_DIR=/tmp/rig HOME=/home/rig
WORKDIR /app
ENTRYPOINT ["rig-entrypoint"]

FROM runtime AS service
ENV RIG_SERVICE=edge RIG_PORT=8000
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["rig-healthcheck"]
CMD ["sh", "-c", "exec python -m rig_service.serve \"$RIG_SERVICE\" --host 0.0.0.0 --port \"$RIG_PORT\""]

FROM runtime AS sandbox
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ENV RIG_SERVICE=sandbox RIG_PORT=8090
USER 10001:10001
EXPOSE 8090
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["rig-healthcheck"]
CMD ["sh", "-c", "exec python -m rig_service.serve \"$RIG_SERVICE\" --host 0.0.0.0 --port \"$RIG_PORT\""]

FROM runtime AS agent-base
# bubblewrap runs repository commands and the coding CLIs in the workload sandbox (rig_providers.sandbox); the
# container needs user namespaces for it (docs/deploy.md: unconfined seccomp and AppArmor, unmasked /proc).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git bubblewrap ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && npm install --global --no-audit --no-fund @anthropic-ai/claude-code@2.1.332 @openai/codex@0.169.0 \
 && npm cache clean --force \
 && mkdir -p /work && chown 10001:10001 /work
ENV RIG_AGENT_WORK_DIR=/work RIG_PORT=8080 RIG_AGENT_CLUSTER=true
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["rig-healthcheck"]
CMD ["sh", "-c", "exec python -m rig_agent --agent \"$RIG_AGENT\" --port \"$RIG_PORT\""]

FROM agent-base AS agent-node
USER 0:0
RUN corepack enable
USER 10001:10001

FROM agent-base AS agent-python
COPY --from=uv /uv /usr/local/bin/uv

FROM agent-base AS agent-dotnet
USER 0:0
COPY --from=mcr.microsoft.com/dotnet/sdk:8.0.404-bookworm-slim /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/local/bin/dotnet
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
USER 10001:10001
