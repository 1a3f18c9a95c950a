"""Where a repository's `.rig-agent.yaml` comes from: its default branch, through the conductor's App.

Parsed and validated once per blob SHA: the readings are cached in the router's schema.
"""

from __future__ import annotations

import json
import logging
import time

import asyncpg
from prometheus_client import Counter

from rig_github import GitHubClient, GitHubError, RateLimitedError, UnavailableError
from rig_router.config import ConfigReading, RepoConfig, parse

log = logging.getLogger(__name__)

READS = Counter("rig_router_config_reads_total", "Readings of .rig-agent.yaml", ["outcome"])


class ConfigSource:
    """Reads `.rig-agent.yaml` of a repository; without GitHub credentials every repository is `stack: base`."""

    def __init__(self, github: GitHubClient | None, path: str = ".rig-agent.yaml", ttl_s: float = 0.0) -> None:
        self.github = github
        self.path = path
        self._ttl_s = ttl_s
        self._recent: dict[str, tuple[float, ConfigReading]] = {}

    async def read(self, pool: asyncpg.Pool, repo: str) -> ConfigReading:
        """The file on the default branch (or, within `ttl_s`, the last reading of this repository)."""
        if self._ttl_s > 0:
            now = time.monotonic()
            recent = self._recent.get(repo)
            if recent is not None and now - recent[0] < self._ttl_s:
                READS.labels("recent").inc()
                return recent[1]
            reading = await self._read(pool, repo)
            self._recent[repo] = (now, reading)
            return reading
        return await self._read(pool, repo)

    async def _read(self, pool: asyncpg.Pool, repo: str) -> ConfigReading:
        """The file on the default branch: a cached reading of its blob SHA, or parsed now and cached."""
        if self.github is None:
            READS.labels("no github").inc()
            return ConfigReading(RepoConfig())
        try:
            found = await self.github.get_file(repo, self.path)
        except (UnavailableError, RateLimitedError):
            raise  # passing: the batch is retried
        except GitHubError as error:
            # Lasting (no access, bad request): an explanation on the issue beats retrying until dead-lettered.
            READS.labels("unreadable").inc()
            return ConfigReading(None, (f"`{self.path}` could not be read from the default branch of {repo} "
                                        f"({error}); check that the conductor's GitHub App is installed on it "
                                        "with read access to its contents.",))
        if found is None:
            READS.labels("missing").inc()
            return ConfigReading(RepoConfig())
        async with pool.acquire() as conn:
            cached = await conn.fetchrow("SELECT config::text, problems::text FROM repo_configs WHERE sha = $1",
                                         found.sha)
            if cached is not None:
                READS.labels("cached").inc()
                config = json.loads(cached["config"]) if cached["config"] else None
                return ConfigReading(RepoConfig.from_json(config) if config is not None else None,
                                     tuple(json.loads(cached["problems"])), found.sha)
            reading = parse(found.text, self.path)
            await conn.execute(
                "INSERT INTO repo_configs (sha, repo, config, problems) VALUES ($1, $2, $3::jsonb, $4::jsonb) "
                "ON CONFLICT (sha) DO NOTHING", found.sha, repo,
                json.dumps(reading.config.to_json()) if reading.config else None, json.dumps(reading.problems))
        READS.labels("valid" if reading.config else "invalid").inc()
        return ConfigReading(reading.config, reading.problems, found.sha)
