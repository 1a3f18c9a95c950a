"""App JWT and installation tokens against the sandbox: claims, signature, caching and refresh before expiry,
also mid-run with short-lived tokens, and a new token once the sandbox stops accepting the old one."""

from __future__ import annotations

import asyncio
import itertools
import os
import time

import jwt
import pytest
from live_sandbox import TOKEN_TTL_S, fingerprint

from rig_github import GitHubClient, Role, UnauthorizedError, app_jwt
from rig_github.apps import JWT_EXPIRY


async def test_the_app_jwt_is_rs256_with_githubs_claims(github, make_settings):
    credentials = make_settings().app(Role.DEV)
    assert credentials is not None
    before = int(time.time())
    token = app_jwt(credentials)

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, github.public_key(Role.DEV), algorithms=["RS256"])
    assert claims["iss"] == str(github.apps[Role.DEV]["id"])
    assert before - 61 <= claims["iat"] <= before - 59
    assert claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] - int(time.time()) <= 600
    assert JWT_EXPIRY <= 600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, github.public_key(Role.REVIEW), algorithms=["RS256"])
    # … and GitHub (here, the sandbox) takes it as the dev App.
    the_app = await github.call("GET", "/app", headers={"Authorization": f"Bearer {token}"}, expect=200)
    assert the_app["slug"] == "rig-dev"


async def test_the_server_verifies_the_jwt_with_the_apps_public_key(github, make_settings, repo):
    since = time.time()
    async with GitHubClient(make_settings(), Role.DEV) as client:
        assert (await client.get_repo(repo)).full_name == repo

    # The dev App's id with the review App's key: the sandbox refuses the JWT, so no token.
    forged = make_settings(github_dev_private_key=github.private_key(Role.REVIEW))
    async with GitHubClient(forged, Role.DEV) as client:
        with pytest.raises(UnauthorizedError):
            await client.get_repo(repo)
    asked = await github.requests(since=since, method="POST", path="/app/installations/*/access_tokens")
    assert [(a["credential"], a["app"], a["status"]) for a in asked] == [("jwt", "dev", 201), ("jwt", "dev", 401)]


async def test_a_token_is_fetched_once_and_shared_by_every_pool_thread(github, conductor, repo):
    since = time.time()
    await asyncio.gather(*(conductor.get_repo(repo) for _ in range(12)))

    assert len(await github.tokens_minted(Role.CONDUCTOR, since)) == 1
    used = {entry["credential_sha256"] for entry in await github.requests(since=since, path=f"/repos/{repo}")}
    assert used == {fingerprint(await conductor.installation_token())}


async def test_tokens_are_replaced_before_they_expire_also_in_the_middle_of_a_run(short_lived):
    repo = await short_lived.new_repo()
    since = time.time()
    async with GitHubClient(short_lived.settings(), Role.CONDUCTOR) as client:
        started = time.monotonic()
        while time.monotonic() - started < 4:  # one long run, calling all along, with tokens that live 2 s
            await client.get_repo(repo)
            await asyncio.sleep(0.1)

    calls = await short_lived.requests(since=since, path=f"/repos/{repo}")
    minted = await short_lived.tokens_minted(Role.CONDUCTOR, since)
    assert calls and all(call["status"] == 200 for call in calls)  # never an expired token
    assert len(minted) >= 3
    assert len(minted) < len(calls) / 3  # cached between refreshes, not one per call
    for earlier, later in itertools.pairwise(minted):
        assert later["at"] - earlier["at"] < TOKEN_TTL_S  # each token was replaced while it still worked
    assert len({call["credential_sha256"] for call in calls}) == len(minted)


async def test_the_installation_token_for_git_is_the_cached_one(github, conductor, repo):
    since = time.time()
    await conductor.get_repo(repo)
    token = await conductor.installation_token()

    assert {e["credential_sha256"] for e in await github.requests(since=since, path=f"/repos/{repo}")} == {
        fingerprint(token)}
    assert len(await github.tokens_minted(Role.CONDUCTOR, since)) == 1
    clone_url = github.url.replace("http://", f"http://x-access-token:{token}@") + f"/{repo}.git"
    git = await asyncio.create_subprocess_exec(
        "git", "ls-remote", clone_url, "refs/heads/main", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    out, err = await git.communicate()
    assert git.returncode == 0, err.decode()
    assert out.decode().endswith("refs/heads/main\n")


async def test_a_token_github_stops_accepting_is_replaced_on_the_next_call(github, conductor, repo):
    since = time.time()
    await conductor.get_repo(repo)
    revoked = await conductor.installation_token()
    await github.call("DELETE", "/installation/token", token=revoked, expect=204)  # as GitHub's API revokes one

    with pytest.raises(UnauthorizedError, match="Bad credentials"):
        await conductor.get_repo(repo)
    assert (await conductor.get_repo(repo)).full_name == repo
    assert await conductor.installation_token() != revoked
    assert len(await github.tokens_minted(Role.CONDUCTOR, since)) == 2
