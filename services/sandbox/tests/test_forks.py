"""Forks as GitHub has them: a second user forks a repository with a personal token, pushes a branch named like
the base's default branch to the fork, and opens a pull request from it into the original. The PR's head lives in
the fork (`head.repo.full_name` is not `base.repo.full_name`), pushes to the fork's branch synchronize it, and the
base repository's own branch of the same name is another branch entirely."""

from __future__ import annotations

from typing import Any

from sandbox_support import Sandbox, clone_url, create_repo, git, serving

FILES = {"README.md": "# widgets\n"}


async def user_token(sandbox: Sandbox, login: str) -> str:
    async with sandbox.client() as client:
        assert (await client.post("/_sandbox/users", json={"login": login})).status_code == 201
        minted = await client.post(f"/_sandbox/users/{login}/tokens")
        assert minted.status_code == 201, minted.text
        return str(minted.json()["token"])


async def emitted(sandbox: Sandbox) -> list[dict[str, Any]]:
    async with sandbox.client() as client:
        return list((await client.get("/_sandbox/events", params={"limit": 1000})).json())


async def test_a_pull_request_from_a_fork_has_its_head_in_the_fork(tmp_path):
    async with serving(tmp_path / "data") as sandbox:
        await create_repo(sandbox, "acme/widgets", FILES)
        outsider = await user_token(sandbox, "outsider")
        async with sandbox.client(await sandbox.token("dev")) as app:
            refused = await app.post("/repos/acme/widgets/forks")
            assert refused.status_code == 403  # an App's installation cannot fork
        async with sandbox.client(outsider) as client:
            forked = await client.post("/repos/acme/widgets/forks", json={"default_branch_only": True})
            assert forked.status_code == 202, forked.text
            fork = forked.json()
            assert (fork["full_name"], fork["fork"], fork["owner"]["login"]) == ("outsider/widgets", True, "outsider")
            assert (await client.post("/repos/acme/widgets/forks")).json()["id"] == fork["id"]  # the same fork again
            base_main = (await client.get("/repos/acme/widgets/branches/main")).json()["commit"]["sha"]

            work = tmp_path / "work"
            await git(tmp_path, "clone", "--quiet", clone_url(sandbox, "outsider/widgets", outsider), str(work))
            (work / "evil.txt").write_text("from the fork\n")
            await git(work, "add", ".")
            await git(work, "commit", "-q", "-m", "From the fork")
            await git(work, "push", "-q", "origin", "main")
            head = await git(work, "rev-parse", "HEAD")

            opened = await client.post("/repos/acme/widgets/pulls", json={
                "title": "Innocent", "head": "outsider:main", "base": "main", "body": "Closes #1"})
            assert opened.status_code == 201, opened.text
            pull = opened.json()
            assert (pull["head"]["repo"]["full_name"], pull["head"]["label"], pull["head"]["ref"]) == (
                "outsider/widgets", "outsider:main", "main")
            assert (pull["head"]["sha"], pull["base"]["repo"]["full_name"], pull["user"]["login"]) == (
                head, "acme/widgets", "outsider")
            files = (await client.get(f"/repos/acme/widgets/pulls/{pull['number']}/files")).json()
            assert [f["filename"] for f in files] == ["evil.txt"]
            again = await client.post("/repos/acme/widgets/pulls", json={
                "title": "Again", "head": "outsider:main", "base": "main"})
            assert again.status_code == 422
            nobody = await client.post("/repos/acme/widgets/pulls", json={
                "title": "No fork", "head": "stranger:main", "base": "main"})
            assert nobody.status_code == 422
            assert (await client.get("/repos/acme/widgets/branches/main")).json()["commit"]["sha"] == base_main

        # A push to the base's own main is not a push to the PR's head, though both branches are called main.
        await sandbox_commit(sandbox, "acme/widgets", "main", {"base.txt": "base\n"})
        # A push to the fork's branch synchronizes the PR on the base repository; the fork itself sends nothing.
        newer = await sandbox_commit(sandbox, "outsider/widgets", "main", {"evil.txt": "more\n"}, author="outsider")
        async with sandbox.client(outsider) as client:
            now = (await client.get(f"/repos/acme/widgets/pulls/{pull['number']}")).json()
        assert now["head"]["sha"] == newer
        events = await emitted(sandbox)
        synced = [e for e in events if (e["event"], e["action"]) == ("pull_request", "synchronize")]
        assert len(synced) == 1
        pushed = [e["repository"] for e in events if e["event"] == "push"]
        assert "acme/widgets" in pushed and "outsider/widgets" not in pushed


async def sandbox_commit(sandbox: Sandbox, repo: str, branch: str, files: dict[str, str],
                         author: str = "maintainer") -> str:
    async with sandbox.client() as client:
        made = await client.post(f"/_sandbox/repos/{repo}/commits",
                                 json={"branch": branch, "files": files, "author": author})
        assert made.status_code == 201, made.text
        return str(made.json()["sha"])
