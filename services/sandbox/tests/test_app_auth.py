"""Who may call: App JWTs checked as GitHub checks them, installation tokens that expire, tokens limited to
some repositories, personal access tokens, and GitHub's 401 answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import jwt
from sandbox_support import app_jwt, create_repo, serving


def signed(app: dict[str, Any], claims: dict[str, Any], key_path: str | None = None) -> str:
    return jwt.encode(claims, Path(key_path or app["key_path"]).read_text(), algorithm="RS256")


def mode_of(path: str) -> str:
    return oct(Path(path).stat().st_mode & 0o777)


async def test_app_jwts_are_checked_like_githubs(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        apps = await sandbox.apps()
        dev = apps["dev"]
        now = int(time.time())
        too_long = signed(dev, {"iat": now, "exp": now + 3600, "iss": str(dev["id"])})
        expired = signed(dev, {"iat": now - 900, "exp": now - 300, "iss": str(dev["id"])})
        other_key = signed(dev, {"iat": now, "exp": now + 300, "iss": str(dev["id"])}, apps["review"]["key_path"])
        async with sandbox.client() as client:
            answers = {name: await client.get("/app", headers={"Authorization": f"Bearer {value}"})
                       for name, value in (("good", app_jwt(dev)), ("too_long", too_long), ("expired", expired),
                                           ("other_key", other_key), ("garbage", "not.a.jwt"))}
            missing = await client.get("/app")
        assert answers["good"].status_code == 200
        assert answers["good"].json()["slug"] == "rig-dev" and answers["good"].json()["id"] == dev["id"]
        for name in ("too_long", "expired", "other_key", "garbage"):
            assert answers[name].status_code == 401, name
            assert set(answers[name].json()) >= {"message", "documentation_url"}
        assert "too far in the future" in answers["too_long"].json()["message"]
        assert missing.status_code == 401
        assert mode_of(dev["key_path"]) == "0o600"


async def test_installation_tokens_act_as_the_apps_bot_and_expire(tmp_path):
    async with serving(tmp_path / "data", sandbox_token_ttl_s=1) as sandbox:
        await create_repo(sandbox, "acme/widgets", {"a.txt": "a\n"})
        token = await sandbox.token("review")
        async with sandbox.client(token) as client:
            issue = await client.post("/repos/acme/widgets/issues", json={"title": "t"})
            bearer = await client.get("/repos/acme/widgets", headers={"Authorization": f"Bearer {token}"})
            await asyncio.sleep(1.2)
            expired = await client.get("/repos/acme/widgets")
            anonymous = await client.get("/repos/acme/widgets", headers={"Authorization": ""})
        assert issue.json()["user"]["login"] == "rig-review[bot]" and issue.json()["user"]["type"] == "Bot"
        assert bearer.status_code == 200
        assert expired.status_code == 401 and expired.json()["message"] == "Bad credentials"
        assert anonymous.status_code == 401 and anonymous.json()["message"] == "Requires authentication"


async def test_a_token_limited_to_repositories_sees_only_those(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/one", {"a.txt": "a\n"})
        await create_repo(sandbox, "acme/two", {"a.txt": "a\n"})
        dev = (await sandbox.apps())["dev"]
        async with sandbox.client() as client:
            minted = await client.post(f"/app/installations/{dev['installation_id']}/access_tokens",
                                       headers={"Authorization": f"Bearer {app_jwt(dev)}"},
                                       json={"repositories": ["one"]})
        assert minted.status_code == 201 and minted.json()["repository_selection"] == "selected"
        async with sandbox.client(minted.json()["token"]) as client:
            assert (await client.get("/repos/acme/one")).status_code == 200
            assert (await client.get("/repos/acme/two")).status_code == 404


async def test_a_personal_access_token_acts_as_its_user(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"a.txt": "a\n"})
        async with sandbox.client() as control:
            assert (await control.post("/_sandbox/users", json={"login": "ada"})).status_code == 201
            pat = (await control.post("/_sandbox/users/ada/tokens")).json()["token"]
            await control.post("/_sandbox/repos/acme/widgets/commits", json={"branch": "b", "files": {"b": "b"}})
        async with sandbox.client(await sandbox.token("dev")) as client:
            await client.post("/repos/acme/widgets/pulls", json={"title": "b", "head": "b", "base": "main"})
        async with sandbox.client(pat) as client:
            review = await client.post("/repos/acme/widgets/pulls/1/reviews", json={"event": "APPROVE"})
            check = await client.post("/repos/acme/widgets/check-runs", json={"name": "ci", "head_sha": "0" * 40})
        assert pat.startswith("ghp_")
        assert review.status_code == 200 and review.json()["user"]["login"] == "ada"
        assert check.status_code == 403, "check runs need a GitHub App"
