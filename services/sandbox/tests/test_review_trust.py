"""What the review rules of issue 12 need of the sandbox: outsiders who review (author_association NONE, in the
API and the webhook), files without a patch (binary, very large), and branch protection's required checks."""

from __future__ import annotations

import base64

from sandbox_support import create_repo, serving
from test_mergeability import open_pull, state_of

from rig_sandbox.shapes.commits import PATCH_LIMIT_BYTES

FILES = {"README.md": "# widgets\n"}


async def test_an_outsider_reviews_with_association_none_and_a_collaborator_as_collaborator(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES, require_review=True)
        pull = await open_pull(sandbox, await sandbox.token("dev"))
        async with sandbox.client() as control:
            made = await control.post("/_sandbox/users", json={"login": "mallory", "collaborator": False})
            assert made.status_code == 201 and made.json()["collaborator"] is False
            token = (await control.post("/_sandbox/users/mallory/tokens")).json()["token"]
        async with sandbox.client(token) as outsider:
            answer = await outsider.post(f"/repos/acme/widgets/pulls/{pull['number']}/reviews",
                                         json={"event": "APPROVE"})
        assert answer.status_code == 200, answer.text
        async with sandbox.client(await sandbox.token("review")) as review:
            # An outsider's approval does not satisfy a required review (only write access does, as on GitHub).
            assert (await state_of(review, pull["number"]))[1] == "blocked"
            await review.post(f"/repos/acme/widgets/pulls/{pull['number']}/reviews", json={"event": "APPROVE"})
            assert (await state_of(review, pull["number"]))[1] == "clean"
            listed = (await review.get(f"/repos/acme/widgets/pulls/{pull['number']}/reviews")).json()
        assert [(r["user"]["login"], r["author_association"]) for r in listed] == [
            ("mallory", "NONE"), ("rig-review[bot]", "COLLABORATOR")]
        hooks = sandbox.events.named("pull_request_review", "submitted")
        assert [(h["review"]["user"]["login"], h["review"]["author_association"]) for h in hooks] == [
            ("mallory", "NONE"), ("rig-review[bot]", "COLLABORATOR")]
        assert hooks[0]["pull_request"]["user"]["login"] == "rig-dev[bot]"


async def test_binary_and_very_large_files_come_without_a_patch(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        huge = "".join(f"line {n}\n" for n in range(PATCH_LIMIT_BYTES // 8 + 10))
        async with sandbox.client() as control:
            pushed = await control.post("/_sandbox/repos/acme/widgets/commits", json={
                "branch": "topic", "files": {"logo.png": {"base64": base64.b64encode(b"\x89PNG\0\1\2").decode()},
                                             "big.txt": huge, "small.txt": "hello\n"}})
            assert pushed.status_code == 201, pushed.text
        async with sandbox.client(await sandbox.token("dev")) as client:
            opened = await client.post("/repos/acme/widgets/pulls",
                                       json={"title": "t", "head": "topic", "base": "main"})
            files = (await client.get(f"/repos/acme/widgets/pulls/{opened.json()['number']}/files")).json()
            compared = (await client.get("/repos/acme/widgets/compare/main...topic")).json()["files"]
        for listing in (files, compared):
            patched = {f["filename"]: "patch" in f for f in listing}
            assert patched == {"logo.png": False, "big.txt": False, "small.txt": True}


async def test_required_checks_come_from_branch_protection_and_hold_the_merge(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        dev = await sandbox.token("dev")
        pull = await open_pull(sandbox, dev)
        path = "/repos/acme/widgets/branches/main/protection/required_status_checks"
        async with sandbox.client(dev) as client:
            unprotected = await client.get(path)
            async with sandbox.client() as control:
                await control.patch("/_sandbox/repos/acme/widgets", json={"required_checks": ["lint", "e2e"]})
            policy = (await client.get(path)).json()
            branch = (await client.get("/repos/acme/widgets/branches/main")).json()
            conductor = await sandbox.token("conductor")
            async with sandbox.client(conductor) as ci:
                await ci.post("/repos/acme/widgets/check-runs", json={
                    "name": "lint", "head_sha": pull["head"]["sha"], "status": "completed", "conclusion": "success"})
            waiting = await state_of(client, pull["number"])
            async with sandbox.client(conductor) as ci:
                await ci.post(f"/repos/acme/widgets/statuses/{pull['head']['sha']}",
                              json={"state": "success", "context": "e2e"})
            ready = await state_of(client, pull["number"])
        assert unprotected.status_code == 404 and unprotected.json()["message"] == "Branch not protected"
        assert policy["contexts"] == ["lint", "e2e"] and [c["context"] for c in policy["checks"]] == ["lint", "e2e"]
        assert branch["protected"] is True and branch["protection"]["required_status_checks"]["contexts"] == [
            "lint", "e2e"]
        assert waiting == (True, "blocked") and ready == (True, "clean")
