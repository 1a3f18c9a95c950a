"""Faults armed through `/_sandbox/faults` make the sandbox misbehave as GitHub does (5xx, secondary and primary
rate limits, delays) for the next N matching requests, and count what they did; `/_sandbox/requests` shows
what came in. Also the revocation of an installation token, which tests use to see a token refused."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from sandbox_support import app_jwt, create_repo, serving

R = "/repos/acme/widgets"


async def arm(control, **spec: Any) -> dict[str, Any]:
    answer = await control.post("/_sandbox/faults", json=spec)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_a_server_error_answers_the_next_n_matching_requests_then_github_answers(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        token = await sandbox.token("dev")
        async with sandbox.client() as control, sandbox.client(token) as client:
            armed = await arm(control, kind="server_error", method="GET", path="/repos/acme/*", times=2)
            other_method = await client.post(f"{R}/issues", json={"title": "t"})
            other_path = await client.get(f"{R}/issues/1")
            answers = [await client.get(R) for _ in range(3)]
            listed = (await control.get("/_sandbox/faults")).json()
            health = await control.get("/readyz")
        assert armed["remaining"] == 2 and armed["fired"] == 0 and armed["status"] == 502
        assert (other_method.status_code, other_path.status_code) == (201, 200)
        assert [a.status_code for a in answers] == [502, 502, 200]
        assert answers[0].json() == {"message": "Server Error", "documentation_url": "https://docs.github.com/rest",
                                     "status": "502"}
        assert answers[0].headers["X-GitHub-Request-Id"]  # GitHub's usual headers on fault answers too
        [fault] = listed
        assert (fault["fired"], fault["remaining"], fault["active"]) == (2, 0, False)
        assert [(f["method"], f["path"], f["status"]) for f in fault["firings"]] == [("GET", R, 502)] * 2
        assert health.status_code == 200


async def test_503_and_504_carry_githubs_messages(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        async with sandbox.client() as control:
            await arm(control, kind="server_error", path="/rate_limit", status=503)
            await arm(control, kind="server_error", path="/rate_limit", status=504)
            first, second = await control.get("/rate_limit"), await control.get("/rate_limit")
        assert (first.status_code, first.json()["message"]) == (503, "Service Unavailable")
        assert second.status_code == 504 and second.json()["message"].startswith("We couldn't respond")


async def test_a_secondary_rate_limit_says_so_with_retry_after(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        async with sandbox.client() as control, sandbox.client(await sandbox.token("dev")) as client:
            await arm(control, kind="secondary_rate_limit", path=R, retry_after_s=7)
            await arm(control, kind="secondary_rate_limit", path=R, status=429, retry_after_s=None)
            limited, without_header, fine = await client.get(R), await client.get(R), await client.get(R)
        assert limited.status_code == 403 and limited.headers["Retry-After"] == "7"
        assert limited.json()["message"].startswith("You have exceeded a secondary rate limit")
        assert limited.json()["documentation_url"].endswith("#about-secondary-rate-limits")
        assert limited.headers["X-RateLimit-Remaining"] != "0"
        assert without_header.status_code == 429 and "Retry-After" not in without_header.headers
        assert fine.status_code == 200


async def test_a_primary_rate_limit_leaves_nothing_until_the_reset(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        dev = (await sandbox.apps())["dev"]
        async with sandbox.client() as control, sandbox.client(await sandbox.token("dev")) as client:
            await arm(control, kind="primary_rate_limit", path="/repos/**", reset_in_s=30)
            await arm(control, kind="primary_rate_limit", path="/repos/**", status=429, reset_in_s=5)
            before = int(time.time())
            limited, too_many = await client.get(f"{R}/issues"), await client.get(R)
            faults = (await control.get("/_sandbox/faults")).json()
        assert limited.status_code == 403
        assert limited.json()["message"].startswith(f"API rate limit exceeded for installation ID "
                                                    f"{dev['installation_id']}.")
        assert limited.headers["X-RateLimit-Remaining"] == "0" and limited.headers["X-RateLimit-Limit"] == "5000"
        assert before + 30 <= int(limited.headers["X-RateLimit-Reset"]) <= before + 31
        assert too_many.status_code == 429 and too_many.headers["X-RateLimit-Remaining"] == "0"
        assert faults[0]["firings"][0]["headers"]["X-RateLimit-Reset"] == limited.headers["X-RateLimit-Reset"]


async def test_a_fault_for_one_app_spares_the_others(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        review_app = (await sandbox.apps())["review"]
        async with (sandbox.client() as control, sandbox.client(await sandbox.token("dev")) as dev,
                    sandbox.client(await sandbox.token("review")) as review):
            await arm(control, kind="server_error", path="/**", app="review", times=3)
            as_dev = await dev.get(R)
            as_review = await review.get(R)
            as_review_app = await control.get("/app", headers={"Authorization": f"Bearer {app_jwt(review_app)}"})
        assert as_dev.status_code == 200
        assert as_review.status_code == 502 and as_review_app.status_code == 502


async def test_a_5xx_after_handling_loses_the_answer_but_not_the_change(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        async with sandbox.client() as control, sandbox.client(await sandbox.token("dev")) as client:
            await control.post(f"/_sandbox{R}/issues", json={"title": "t"})
            await arm(control, kind="server_error", method="POST", path=f"{R}/issues/*/comments",
                      after_handling=True)
            posted = await client.post(f"{R}/issues/1/comments", json={"body": "hello"})
            comments = (await client.get(f"{R}/issues/1/comments")).json()
        assert posted.status_code == 502
        assert [c["body"] for c in comments] == ["hello"]


async def test_a_delay_answers_normally_but_late(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        async with sandbox.client() as control, sandbox.client(await sandbox.token("dev")) as client:
            await arm(control, kind="delay", path=R, delay_s=0.3)
            started = time.monotonic()
            late = await client.get(R)
            elapsed = time.monotonic() - started
            [seen] = (await control.get("/_sandbox/requests", params={"path": R})).json()
        assert late.status_code == 200 and late.json()["full_name"] == "acme/widgets"
        assert elapsed >= 0.3 and seen["duration_s"] >= 0.3 and seen["fault"] == 1


async def test_faults_are_listed_removed_and_cleared_and_bad_ones_refused(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        async with sandbox.client() as control:
            first = await arm(control, kind="delay", path="/a", delay_s=1)
            await arm(control, kind="delay", path="/b", delay_s=1)
            one = await control.get(f"/_sandbox/faults/{first['id']}")
            removed = await control.delete(f"/_sandbox/faults/{first['id']}")
            left = (await control.get("/_sandbox/faults")).json()
            gone = await control.delete(f"/_sandbox/faults/{first['id']}")
            cleared = await control.delete("/_sandbox/faults")
            empty = (await control.get("/_sandbox/faults")).json()
            bad = [await control.post("/_sandbox/faults", json=spec) for spec in (
                {"kind": "server_error", "path": "/x", "status": 501}, {"kind": "teapot", "path": "/x"},
                {"kind": "delay", "path": "x", "delay_s": 1}, {"kind": "delay", "path": "/x"},
                {"kind": "server_error", "path": "/x", "times": 0})]
            index = (await control.get("/_sandbox")).json()
        assert one.json()["path"] == "/a" and removed.status_code == 204
        assert [fault["path"] for fault in left] == ["/b"] and gone.status_code == 404
        assert cleared.status_code == 204 and empty == []
        assert {answer.status_code for answer in bad} == {422}
        assert all(answer.json()["message"] == "Validation Failed" for answer in bad)
        assert "POST /_sandbox/faults" in index["endpoints"]


async def test_control_endpoints_are_never_faulted_nor_journaled(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        async with sandbox.client() as control:
            await arm(control, kind="server_error", path="/**", times=100)
            apps = await control.get("/_sandbox/apps")
            health = await control.get("/healthz")
            journal = (await control.get("/_sandbox/requests")).json()
        assert (apps.status_code, health.status_code, journal) == (200, 200, [])


async def test_the_journal_says_who_called_when_and_what_they_got(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        token = await sandbox.token("dev")
        started = time.time()
        async with sandbox.client() as control, sandbox.client(token) as client:
            await client.get(R, params={"x": "1"})
            await control.get(R, headers={"Authorization": "token ghs_nope"})
            await control.get("/rate_limit")
            everything = (await control.get("/_sandbox/requests")).json()
            since = (await control.get("/_sandbox/requests", params={"since": started, "path": "/repos/**"})).json()
            minted = (await control.get("/_sandbox/requests", params={"method": "post"})).json()
            await control.delete("/_sandbox/requests")
            forgotten = (await control.get("/_sandbox/requests")).json()
        dev = (await sandbox.apps())["dev"]
        assert [(e["method"], e["path"], e["status"], e["credential"]) for e in since] == [
            ("GET", R, 200, "installation"), ("GET", R, 401, "unknown")]
        assert since[0]["query"] == "x=1" and since[0]["app"] == "dev" and since[0]["login"] == dev["bot_login"]
        assert since[0]["credential_sha256"] == hashlib.sha256(token.encode()).hexdigest()[:16]
        assert since[0]["at"] >= started and since[0]["duration_s"] > 0 and since[0]["fault"] is None
        [mint] = minted
        assert mint["path"] == f"/app/installations/{dev['installation_id']}/access_tokens"
        assert (mint["credential"], mint["app"], mint["status"]) == ("jwt", "dev", 201)
        assert everything[-1]["path"] == "/rate_limit" and everything[-1]["credential"] is None
        assert forgotten == []


async def test_a_revoked_installation_token_is_refused_from_then_on(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"README.md": "# w\n"})
        async with sandbox.client() as control:
            await control.post("/_sandbox/users", json={"login": "alice"})
            pat = (await control.post("/_sandbox/users/alice/tokens")).json()["token"]
        async with sandbox.client(await sandbox.token("dev")) as client, sandbox.client(pat) as person:
            before = await client.get(R)
            revoked = await client.delete("/installation/token")
            after = await client.get(R)
            by_pat = await person.delete("/installation/token")
        assert (before.status_code, revoked.status_code) == (200, 204)
        assert (after.status_code, after.json()["message"]) == (401, "Bad credentials")
        assert by_pat.status_code == 403
