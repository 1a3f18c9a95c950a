"""The `/_sandbox` control endpoints drive the sandbox as a person would and send GitHub's webhooks; bad
input anywhere gets a GitHub-shaped 4xx, never a 500."""

from __future__ import annotations

import base64
from typing import Any

from sandbox_support import create_repo, serving


async def test_control_actions_change_the_repository_and_emit_webhooks(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        logo = base64.b64encode(b"\x89PNG\x00\x01").decode()
        files: dict[str, Any] = {"README.md": "# w\n", "logo.png": {"base64": logo}}
        repo = await create_repo(sandbox, "acme/widgets", files)
        async with sandbox.client() as control:
            issue = await control.post("/_sandbox/repos/acme/widgets/issues",
                                       json={"title": "Ready?", "body": "b", "labels": ["triage"]})
            labelled = await control.post("/_sandbox/repos/acme/widgets/issues/1/labels",
                                          json={"labels": ["agent-ready"]})
            removed = await control.delete("/_sandbox/repos/acme/widgets/issues/1/labels/triage")
            commit = await control.post("/_sandbox/repos/acme/widgets/commits", json={
                "branch": "topic", "files": {"new.txt": "n\n", "README.md": None}, "message": "Topic"})
            check = await control.post("/_sandbox/repos/acme/widgets/check-runs",
                                       json={"ref": "topic", "name": "ci", "conclusion": "failure"})
            status = await control.post("/_sandbox/repos/acme/widgets/statuses",
                                        json={"ref": "topic", "state": "pending", "context": "deploy"})
            events = (await control.get("/_sandbox/events")).json()
            index = (await control.get("/_sandbox")).json()
        async with sandbox.client(await sandbox.token("dev")) as client:
            logo_file = (await client.get("/repos/acme/widgets/contents/logo.png")).json()
            tree = (await client.get("/repos/acme/widgets/contents?ref=topic")).json()
            commit_of_topic = (await client.get("/repos/acme/widgets/commits/topic")).json()
        assert repo["clone_url"].endswith("/acme/widgets.git") and issue.status_code == 201
        assert [label["name"] for label in labelled.json()] == ["triage", "agent-ready"]
        assert [label["name"] for label in removed.json()] == ["agent-ready"]
        assert commit.status_code == 201 and check.json()["conclusion"] == "failure"
        assert status.json()["state"] == "pending" and status.json()["creator"]["login"] == "maintainer"
        assert base64.b64decode(logo_file["content"]) == b"\x89PNG\x00\x01"
        assert sorted(entry["name"] for entry in tree) == ["logo.png", "new.txt"]
        assert {f["filename"]: f["status"] for f in commit_of_topic["files"]} == {"new.txt": "added",
                                                                                  "README.md": "removed"}
        assert commit_of_topic["sha"] == commit.json()["sha"] and commit_of_topic["commit"]["message"] == "Topic"
        assert [(e["event"], e["action"]) for e in events] == [
            ("issues", "opened"), ("issues", "labeled"), ("issues", "labeled"), ("issues", "unlabeled"),
            ("push", None), ("check_run", "created"), ("check_run", "completed"), ("check_suite", "completed"),
            ("status", None)]
        labeled = sandbox.events.named("issues", "labeled")[-1]
        assert labeled["label"]["name"] == "agent-ready" and labeled["sender"]["login"] == "maintainer"
        assert labeled["installation"]["id"] == (await sandbox.apps())["conductor"]["installation_id"]
        push = sandbox.events.named("push")[0]
        assert push["commits"][0]["added"] == ["new.txt"] and push["commits"][0]["removed"] == ["README.md"]
        assert "POST /_sandbox/repos" in index["endpoints"]


async def test_bad_input_gets_githubs_4xx_never_a_500(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", {"a.txt": "a\n"})
        token = await sandbox.token("dev")
        async with sandbox.client(token) as client:
            assert (await client.post("/repos/acme/widgets/issues", json={"title": "t"})).status_code == 201
            answers = {
                "bad json": await client.post("/repos/acme/widgets/issues", content=b"{nope",
                                              headers={"Content-Type": "application/json"}),
                "not a number": await client.get("/repos/acme/widgets/issues/abc"),
                "wrong type": await client.post("/repos/acme/widgets/issues", json={"title": ["x"]}),
                "bad ref": await client.get("/repos/acme/widgets/contents/a.txt?ref=--output=/tmp/x"),
                "dots": await client.get("/repos/acme/widgets/compare/main..x...main"),
                "bad sha": await client.post("/repos/acme/widgets/statuses/zzz", json={"state": "success"}),
                "bad state": await client.post("/repos/acme/widgets/statuses/main", json={"state": "great"}),
                "bad ref name": await client.post("/repos/acme/widgets/git/refs", json={"ref": "main", "sha": "x"}),
                "unknown path": await client.get("/nothing/here"),
                "wrong method": await client.delete("/repos/acme/widgets"),
                "labels shape": await client.post("/repos/acme/widgets/issues/1/labels", json={"labels": 5}),
            }
        async with sandbox.client() as control:
            answers["control repo name"] = await control.post("/_sandbox/repos",
                                                              json={"owner": "a b", "name": "x", "files": {"a": "b"}})
            answers["control duplicate"] = await control.post("/_sandbox/repos",
                                                              json={"owner": "acme", "name": "widgets",
                                                                    "files": {"a": "b"}})
            answers["control base64"] = await control.post("/_sandbox/repos/acme/widgets/commits",
                                                           json={"branch": "x", "files": {"a": {"base64": "!!"}}})
            answers["control branch"] = await control.post("/_sandbox/repos/acme/widgets/commits",
                                                           json={"branch": "a..b", "files": {"a": "b"}})
            for number, path in enumerate(("../up", "a//b", ".git/config", "/abs", "")):
                answers[f"control path {number}"] = await control.post(
                    "/_sandbox/repos/acme/widgets/commits", json={"branch": "x", "files": {path: "b"}})
        expected = {"bad json": 400, "not a number": 404, "wrong type": 422, "bad ref": 404, "dots": 404,
                    "bad sha": 422, "bad state": 422, "bad ref name": 422, "unknown path": 404, "wrong method": 404,
                    "labels shape": 422, "control repo name": 422, "control duplicate": 422, "control base64": 422,
                    "control branch": 422} | {f"control path {number}": 422 for number in range(5)}
        got = {name: answer.status_code for name, answer in answers.items()}
        assert got == expected
        for answer in answers.values():
            assert "message" in answer.json() and "documentation_url" in answer.json()
