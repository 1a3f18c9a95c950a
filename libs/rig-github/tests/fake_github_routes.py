"""The fake GitHub's issue, pull request, checks and webhook-delivery routes (see fake_github.py)."""

from __future__ import annotations

from typing import Any

from fake_github_state import FakeState, Json, error
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse


def add_issue_routes(app: FastAPI, state: FakeState) -> None:
    """Comments and labels of issues (and PRs, which are issues too)."""

    @app.get("/repos/{owner}/{name}/issues/{number}/comments")
    async def comments(owner: str, name: str, number: int) -> Any:
        return state.comments.get((f"{owner}/{name}", number), [])

    @app.post("/repos/{owner}/{name}/issues/{number}/comments", status_code=201)
    async def comment(owner: str, name: str, number: int, payload: Json = Body(...)) -> Any:  # noqa: B008
        if name.startswith("broken"):
            return error(502, "Server Error")
        made = state.comments.setdefault((f"{owner}/{name}", number), [])
        made.append({"id": 1000 + len(made), "body": payload["body"], "user": {"login": "app[bot]"},
                     "html_url": f"https://github.example/{owner}/{name}/issues/{number}#c{len(made)}"})
        return made[-1]

    @app.post("/repos/{owner}/{name}/issues/{number}/labels")
    async def add_labels(owner: str, name: str, number: int, payload: Any = Body(...)) -> Any:  # noqa: B008
        wanted = payload["labels"] if isinstance(payload, dict) else payload  # GitHub takes both shapes
        have = state.labels.setdefault((f"{owner}/{name}", number), [])
        have.extend(label for label in wanted if label not in have)
        return [{"name": label} for label in have]

    @app.delete("/repos/{owner}/{name}/issues/{number}/labels/{label}")
    async def remove_label(owner: str, name: str, number: int, label: str) -> Any:
        have = state.labels.setdefault((f"{owner}/{name}", number), [])
        if label not in have:
            return error(404, "Label does not exist")
        have.remove(label)
        return [{"name": kept} for kept in have]


def _pull_json(request: Request, full_name: str, pull: Json) -> Json:
    base = str(request.base_url).rstrip("/")
    shown = {key: value for key, value in pull.items() if key not in ("author_app", "unknown_reads")}
    return shown | {"url": f"{base}/repos/{full_name}/pulls/{pull['number']}", "id": pull["number"],
                    "issue_url": f"{base}/repos/{full_name}/issues/{pull['number']}",
                    "html_url": f"https://github.example/{full_name}/pull/{pull['number']}",
                    "labels": [{"name": label} for label in pull.get("labels", [])]}


def add_pull_routes(app: FastAPI, state: FakeState) -> None:
    """Pull requests, reviews, merges, checks and the App's webhook deliveries."""

    @app.get("/repos/{owner}/{name}/pulls/{number}")
    async def pull(owner: str, name: str, number: int, request: Request) -> Any:
        found = state.pulls.get((f"{owner}/{name}", number))
        if found is None:
            return error(404, "Not Found")
        if found.get("unknown_reads", 0) > 0:  # GitHub still computing mergeability, as right after a push
            found["unknown_reads"] -= 1
            return _pull_json(request, f"{owner}/{name}", found) | {"mergeable": None, "mergeable_state": "unknown"}
        return _pull_json(request, f"{owner}/{name}", found)

    @app.get("/repos/{owner}/{name}/pulls")
    async def pulls(owner: str, name: str, request: Request, head: str = "") -> Any:
        return [_pull_json(request, f"{owner}/{name}", found) for (repo, _), found in state.pulls.items()
                if repo == f"{owner}/{name}" and f"{owner}:{found['head']['ref']}" == head]

    @app.post("/repos/{owner}/{name}/pulls", status_code=201)
    async def create_pull(owner: str, name: str, request: Request, payload: Json = Body(...)) -> Any:  # noqa: B008
        full_name = f"{owner}/{name}"
        taken = [found for (repo, _), found in state.pulls.items() if repo == full_name]
        if any(found["head"]["ref"] == payload["head"] for found in taken):
            return JSONResponse({"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"A pull request already exists for {owner}:{payload['head']}."}]}, 422)
        number = 1 + max((n for (repo, n) in state.pulls if repo == full_name), default=0)
        state.add_pull(full_name, number, head_sha="new0", author_app=request.state.app_id, head_ref=payload["head"],
                       mergeable_state="unknown")
        state.pulls[(full_name, number)].update(title=payload["title"], body=payload["body"], mergeable=None)
        return _pull_json(request, full_name, state.pulls[(full_name, number)])

    @app.put("/repos/{owner}/{name}/pulls/{number}/merge")
    async def merge(owner: str, name: str, number: int, payload: Json = Body(...)) -> Any:  # noqa: B008
        found = state.pulls[(f"{owner}/{name}", number)]
        if found["merged"] or found["mergeable_state"] != "clean":
            return error(405, "Pull Request is not mergeable")
        if payload.get("sha") != found["head"]["sha"]:
            return error(409, "Head branch was modified. Review and try the merge again.")
        sha = f"merge{len(state.merges) + 1}"
        state.merges.append((f"{owner}/{name}", number, payload.get("merge_method", "merge")))
        found.update(merged=True, state="closed", merge_commit_sha=sha, mergeable=None, mergeable_state="unknown")
        return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    @app.get("/repos/{owner}/{name}/pulls/{number}/reviews")
    async def reviews(owner: str, name: str, number: int) -> Any:
        return state.reviews.get((f"{owner}/{name}", number), [])

    @app.post("/repos/{owner}/{name}/pulls/{number}/reviews")
    async def review(owner: str, name: str, number: int, request: Request, payload: Json = Body(...)) -> Any:  # noqa: B008
        found = state.pulls[(f"{owner}/{name}", number)]
        if payload.get("event") == "APPROVE" and found["author_app"] == request.state.app_id:
            return JSONResponse({"message": "Unprocessable Entity",
                                 "errors": ["Can not approve your own pull request"]}, 422)
        states = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
        made = state.reviews.setdefault((f"{owner}/{name}", number), [])
        made.append({"id": 500 + len(made), "user": {"login": f"app-{request.state.app_id}[bot]"},
                     "state": states[payload["event"]], "commit_id": payload["commit_id"],
                     "body": payload.get("body", ""), "submitted_at": "2026-11-25T12:00:00Z"})
        return made[-1]

    @app.get("/repos/{owner}/{name}/commits/{sha}/check-runs")
    async def check_runs(sha: str) -> Any:
        runs = state.check_runs.get(sha, [])
        return {"total_count": len(runs), "check_runs": runs}

    @app.get("/repos/{owner}/{name}/commits/{sha}/status")
    async def status(sha: str) -> Any:
        found = state.statuses.get(sha, [])
        combined = "success" if found and all(s["state"] == "success" for s in found) else "pending"
        return {"state": combined, "sha": sha, "total_count": len(found), "statuses": found}

    @app.get("/app/hook/deliveries")
    async def deliveries(request: Request, per_page: int = 30, cursor: str = "") -> Any:
        start = int(cursor.removeprefix("v1_")) if cursor else 0
        page = state.deliveries[start:start + per_page]
        headers = {}
        if start + per_page < len(state.deliveries):
            base = str(request.base_url).rstrip("/")
            following = f"{base}/app/hook/deliveries?per_page={per_page}&cursor=v1_{start + per_page}"
            headers["Link"] = f'<{following}>; rel="next"'
        return JSONResponse(page, headers=headers)

    @app.get("/app/hook/deliveries/{delivery_id}")
    async def delivery(delivery_id: int) -> Any:
        for item in state.deliveries:
            if item["id"] == delivery_id:
                return item | {"request": {"headers": {"X-GitHub-Event": item["event"]}, "payload": {}},
                               "response": {"headers": {}, "payload": "oops"}}
        return error(404, "Not Found")

    @app.post("/app/hook/deliveries/{delivery_id}/attempts", status_code=202)
    async def redeliver(delivery_id: int) -> Any:
        state.redelivered.append(delivery_id)
        return {}
