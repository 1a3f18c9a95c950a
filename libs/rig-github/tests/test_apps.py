"""App JWT and installation tokens: claims, signature, caching and refresh before expiry, also mid-run."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from github_apps import APPS, app_key

from rig_github import GitHubClient, Role, UnauthorizedError, app_jwt
from rig_github.apps import JWT_EXPIRY


def test_the_app_jwt_is_rs256_with_githubs_claims(make_settings):
    credentials = make_settings().app(Role.DEV)
    assert credentials is not None
    before = int(time.time())
    token = app_jwt(credentials)

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, app_key(Role.DEV).public_pem, algorithms=["RS256"])
    assert claims["iss"] == str(APPS[Role.DEV][0])
    assert before - 61 <= claims["iat"] <= before - 59
    assert claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] - int(time.time()) <= 600
    assert JWT_EXPIRY <= 600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, app_key(Role.REVIEW).public_pem, algorithms=["RS256"])


async def test_the_server_verifies_the_jwt_with_the_apps_public_key(fake, make_settings):
    async with GitHubClient(make_settings(), Role.DEV) as client:
        assert (await client.get_repo("o/r")).full_name == "o/r"
    [claims] = fake.state.jwt_claims
    assert claims["iss"] == str(APPS[Role.DEV][0])

    # The dev App's id with the review App's key: GitHub (here, the fake) refuses the JWT.
    forged = make_settings(github_dev_private_key=app_key(Role.REVIEW).private_pem)
    async with GitHubClient(forged, Role.DEV) as client:
        with pytest.raises(UnauthorizedError):
            await client.get_repo("o/r")
    assert [s.status for s in fake.state.seen if s.path.endswith("/access_tokens")] == [201, 401]


async def test_a_token_is_fetched_once_and_shared_by_every_pool_thread(fake, conductor):
    await asyncio.gather(*(conductor.get_repo(f"o/r{i}") for i in range(12)))
    assert len(fake.state.tokens) == 1
    used = {s.credential for s in fake.state.seen if s.path.startswith("/repos/")}
    assert used == set(fake.state.tokens)


async def test_tokens_are_replaced_before_they_expire_also_in_the_middle_of_a_run(fake, make_settings):
    fake.state.token_ttl = 2  # GitHub gives an hour; here each token lives 1-2 s
    async with GitHubClient(make_settings(), Role.CONDUCTOR) as client:
        started = time.monotonic()
        while time.monotonic() - started < 4:  # one long run, calling all along
            await client.get_repo("o/r")
            await asyncio.sleep(0.1)

    calls = [s for s in fake.state.seen if s.path == "/repos/o/r"]
    assert calls and all(s.status == 200 for s in calls)  # never an expired token
    assert len(fake.state.tokens) >= 3
    assert len(fake.state.tokens) < len(calls) / 3  # cached between refreshes, not one per call
    issued = list(fake.state.tokens.values())
    fetched = [s.at for s in fake.state.seen if s.path.endswith("/access_tokens")]
    for (_, expires), next_fetch in zip(issued, fetched[1:], strict=False):
        assert next_fetch < expires  # each token was replaced while it still worked


async def test_the_installation_token_for_git_is_the_cached_one(fake, conductor):
    await conductor.get_repo("o/r")
    assert await conductor.installation_token() == next(iter(fake.state.tokens))
    assert len(fake.state.tokens) == 1


async def test_a_token_github_stops_accepting_is_replaced_on_the_next_call(fake, conductor):
    await conductor.get_repo("o/r")
    fake.state.tokens.clear()  # revoked, or the App's key rotated
    with pytest.raises(UnauthorizedError, match="Bad credentials"):
        await conductor.get_repo("o/r")
    assert (await conductor.get_repo("o/r")).full_name == "o/r"
    assert len(fake.state.tokens) == 1
