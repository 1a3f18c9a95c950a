"""Outside development a service never starts an embedded server in place of a missing URL: it refuses to start,
saying which setting is missing (and ingest refuses without a webhook secret)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from system_support import KEYS, ROOT

SERVICES = ("ingest", "router", "merger", "eventstore")


def start(service: str, folder, **variables: str) -> subprocess.CompletedProcess[str]:
    """Start a service as `make run` would, with only the RIG_ variables given; it must exit by itself."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RIG_")}
    env |= {"RIG_DATA_DIR": str(folder), "RIG_TOKEN_PUBLIC_KEY": KEYS[1], **variables}
    return subprocess.run([sys.executable, "-m", "rig_service.serve", service, "--port", "9"], cwd=ROOT, env=env,
                          text=True, capture_output=True, timeout=120, check=False)


CASES = [*((service, "production", "RIG_DATABASE_URL") for service in SERVICES),
         ("router", "production", "RIG_REDIS_URL"), ("merger", "test", "RIG_REDIS_URL")]
"""(service, RIG_ENVIRONMENT, the URL left out): every service once, each URL, each environment but development."""


def test_a_service_without_a_server_url_refuses_to_start(tmp_path, database_url, redis_url):
    def attempt(case: tuple[str, str, str]) -> subprocess.CompletedProcess[str]:
        service, environment, missing = case
        given = {"RIG_DATABASE_URL": database_url, "RIG_REDIS_URL": redis_url,
                 "RIG_INGEST_WEBHOOK_SECRETS": json.dumps(["a-real-secret-for-this-test"])}
        del given[missing]
        return start(service, tmp_path / f"{service}-{missing}", RIG_ENVIRONMENT=environment, **given)

    with ThreadPoolExecutor(len(CASES)) as pool:
        results = list(pool.map(attempt, CASES))
    for (service, environment, missing), done in zip(CASES, results, strict=True):
        assert done.returncode == 2, (service, done.stdout, done.stderr)
        assert f"{service} refuses to start: {missing} is not set" in done.stderr, done.stderr
        assert f"RIG_ENVIRONMENT={environment} no embedded server is started" in done.stderr
        folder = tmp_path / f"{service}-{missing}"
        assert not (folder / "postgres").exists() and not (folder / "redis").exists(), "nothing embedded began"


def test_ingest_without_a_webhook_secret_refuses_to_start(tmp_path, database_url, redis_url):
    done = start("ingest", tmp_path, RIG_ENVIRONMENT="production", RIG_DATABASE_URL=database_url,
                 RIG_REDIS_URL=redis_url)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "ingest refuses to start: RIG_INGEST_WEBHOOK_SECRETS is empty" in done.stderr, done.stderr
