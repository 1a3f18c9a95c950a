"""Every operation of GitHub's description (the subset rig-conductor uses), driven against a sandbox process,
answers with a status GitHub documents for it and a body that validates against GitHub's schema for it."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import jwt
import pytest
from sandbox_process import receiving
from sandbox_support import json_schema, operations

from rig_testing.sandbox import sandbox_process

Op = tuple[str, str]
R = "/repos/{owner}/{repo}"
OPERATIONS = sorted((method, path) for method, path, _ in operations())
SPEC = {(method, path): operation for method, path, operation in operations()}


class Driver:
    """Makes calls, checks each status as it comes, and keeps every answer under its operation."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.answers: dict[Op, list[httpx.Response]] = defaultdict(list)

    def __call__(self, op: Op, url: str, expect: int, token: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {token}"} if token else {}
        if token and token.count(".") == 2:
            headers = {"Authorization": f"Bearer {token}"}
        answer = self.http.request(op[0], url, headers=headers, **kwargs)
        assert answer.status_code == expect, f"{op[0]} {url}: {answer.status_code} {answer.text[:500]}"
        self.answers[op].append(answer)
        return answer


def app_jwt(app: dict[str, Any], key_path: str | None = None) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 30, "exp": now + 540, "iss": str(app["id"])},
                      Path(key_path or app["key_path"]).read_text(), algorithm="RS256")


def drive(url: str) -> dict[Op, list[httpx.Response]]:
    """Call each operation on its success path and on its documented failures."""
    with httpx.Client(base_url=url, timeout=30) as http:
        return _drive(Driver(http))


def _drive(call: Driver) -> dict[Op, list[httpx.Response]]:
    control = call.http
    apps = {app["role"]: app for app in control.get("/_sandbox/apps").json()}
    dev_jwt, conductor_jwt = app_jwt(apps["dev"]), app_jwt(apps["conductor"])
    forged = app_jwt(apps["dev"], apps["review"]["key_path"])

    call(("GET", "/app"), "/app", 200, dev_jwt)
    call(("GET", "/app/installations"), "/app/installations", 200, dev_jwt)
    tokens_op = ("POST", "/app/installations/{installation_id}/access_tokens")
    tokens = {role: call(tokens_op, f"/app/installations/{app['installation_id']}/access_tokens", 201,
                         app_jwt(app)).json()["token"] for role, app in apps.items()}
    call(tokens_op, f"/app/installations/{apps['dev']['installation_id']}/access_tokens", 401, forged)
    call(tokens_op, f"/app/installations/{apps['review']['installation_id']}/access_tokens", 404, dev_jwt)
    call(tokens_op, f"/app/installations/{apps['dev']['installation_id']}/access_tokens", 422, dev_jwt,
         json={"repositories": ["no-such-repo"]})
    dev, conductor, review = tokens["dev"], tokens["conductor"], tokens["review"]
    call(("GET", "/rate_limit"), "/rate_limit", 200, dev)

    files = {"README.md": "# widgets\n", "src/app.js": "module.exports = 1;\n"}
    assert control.post("/_sandbox/repos", json={"owner": "acme", "name": "widgets", "files": files}).is_success
    base = "/repos/acme/widgets"
    call(("GET", R), base, 200, dev)
    call(("GET", R), "/repos/acme/nothing", 404, dev)
    main = call(("GET", f"{R}/branches/{{branch}}"), f"{base}/branches/main", 200, dev).json()["commit"]["sha"]
    call(("GET", f"{R}/branches/{{branch}}"), f"{base}/branches/nope", 404, dev)
    for path, status in (("README.md", 200), ("src", 200), ("missing.txt", 404)):
        call(("GET", f"{R}/contents/{{path}}"), f"{base}/contents/{path}", status, dev)
    call(("GET", f"{R}/git/ref/{{ref}}"), f"{base}/git/ref/heads/main", 200, dev)
    call(("GET", f"{R}/git/ref/{{ref}}"), f"{base}/git/ref/heads/nope", 404, dev)
    call(("POST", f"{R}/git/refs"), f"{base}/git/refs", 201, dev, json={"ref": "refs/heads/feature", "sha": main})
    call(("POST", f"{R}/git/refs"), f"{base}/git/refs", 422, dev, json={"ref": "refs/heads/feature", "sha": main})
    commit = {"branch": "feature", "files": {"src/feature.js": "x\n", "README.md": "# widgets!\n"}}
    assert control.post("/_sandbox/repos/acme/widgets/commits", json=commit).is_success
    call(("GET", f"{R}/compare/{{base}}...{{head}}"), f"{base}/compare/main...feature", 200, dev)
    call(("GET", f"{R}/compare/{{base}}...{{head}}"), f"{base}/compare/main...nope", 404, dev)
    call(("GET", f"{R}/hooks"), f"{base}/hooks", 200, dev)
    call(("GET", f"{R}/installation"), f"{base}/installation", 200, conductor_jwt)
    call(("GET", f"{R}/installation"), "/repos/acme/nothing/installation", 404, conductor_jwt)

    issue_op, one = (f"{R}/issues", f"{R}/issues/{{issue_number}}"), f"{base}/issues/1"
    call(("POST", issue_op[0]), f"{base}/issues", 201, conductor, json={"title": "Do it", "labels": ["bug"]})
    call(("POST", issue_op[0]), f"{base}/issues", 422, conductor, json={"body": "no title"})
    call(("POST", issue_op[0]), "/repos/acme/nothing/issues", 404, conductor, json={"title": "x"})
    call(("GET", issue_op[1]), one, 200, conductor)
    call(("GET", issue_op[1]), f"{base}/issues/99", 404, conductor)
    call(("PATCH", issue_op[1]), one, 200, conductor, json={"title": "Do it well"})
    call(("PATCH", issue_op[1]), one, 422, conductor, json={"state": "sideways"})
    call(("PATCH", issue_op[1]), f"{base}/issues/99", 404, conductor, json={"title": "x"})
    comments = f"{R}/issues/{{issue_number}}/comments"
    call(("POST", comments), f"{one}/comments", 201, conductor, json={"body": "On it"})
    call(("POST", comments), f"{one}/comments", 422, conductor, json={"body": " "})
    call(("POST", comments), f"{base}/issues/99/comments", 404, conductor, json={"body": "x"})
    call(("GET", comments), f"{one}/comments", 200, conductor)
    call(("GET", comments), f"{base}/issues/99/comments", 404, conductor)
    labels = f"{R}/issues/{{issue_number}}/labels"
    call(("POST", labels), f"{one}/labels", 200, conductor, json={"labels": ["agent-ready"]})
    call(("POST", labels), f"{one}/labels", 200, conductor, json=["extra"])
    call(("POST", labels), f"{one}/labels", 422, conductor, json={"labels": [""]})
    call(("POST", labels), f"{base}/issues/99/labels", 404, conductor, json=["x"])
    call(("GET", labels), f"{one}/labels", 200, conductor)
    call(("GET", labels), f"{base}/issues/99/labels", 404, conductor)
    call(("DELETE", f"{labels}/{{name}}"), f"{one}/labels/extra", 200, conductor)
    call(("DELETE", f"{labels}/{{name}}"), f"{one}/labels/extra", 404, conductor)

    pulls, pull = f"{R}/pulls", f"{R}/pulls/{{pull_number}}"
    opened = call(("POST", pulls), f"{base}/pulls", 201, dev,
                  json={"title": "Feature", "head": "feature", "base": "main", "body": "Closes #1"}).json()
    number, head = opened["number"], opened["head"]["sha"]
    call(("POST", pulls), f"{base}/pulls", 422, dev, json={"title": "Again", "head": "feature", "base": "main"})
    call(("POST", pulls), f"{base}/pulls", 422, dev, json={"title": "No", "head": "nope", "base": "main"})
    call(("GET", pulls), f"{base}/pulls", 200, dev)
    call(("GET", pulls), f"{base}/pulls?state=sideways", 422, dev)
    this = f"{base}/pulls/{number}"
    call(("GET", pull), this, 200, dev)
    call(("GET", pull), f"{base}/pulls/99", 404, dev)
    call(("PATCH", pull), this, 200, dev, json={"title": "Feature!", "body": "It.\n\nCloses #1"})
    call(("PATCH", pull), this, 422, dev, json={"state": "sideways"})
    call(("GET", f"{pull}/commits"), f"{this}/commits", 200, dev)
    call(("GET", f"{pull}/files"), f"{this}/files", 200, dev)
    call(("GET", f"{pull}/merge"), f"{this}/merge", 404, dev)

    reviews = f"{pull}/reviews"
    call(("POST", reviews), f"{this}/reviews", 422, dev, json={"event": "APPROVE"})
    call(("POST", reviews), f"{this}/reviews", 200, review, json={"event": "APPROVE", "body": "Fine"})
    call(("GET", reviews), f"{this}/reviews", 200, review)

    call(("POST", f"{R}/statuses/{{sha}}"), f"{base}/statuses/{head}", 201, conductor,
         json={"state": "success", "context": "ci/lint", "target_url": "http://ci.example/1"})
    call(("GET", f"{R}/commits/{{ref}}/status"), f"{base}/commits/{head}/status", 200, conductor)
    call(("GET", f"{R}/commits/{{ref}}/status"), f"{base}/commits/nope/status", 404, conductor)
    call(("POST", f"{R}/check-runs"), f"{base}/check-runs", 201, conductor,
         json={"name": "ci", "head_sha": head, "status": "in_progress"})
    call(("POST", f"{R}/check-runs"), f"{base}/check-runs", 201, conductor,
         json={"name": "ci", "head_sha": head, "conclusion": "success", "output": {"title": "ok", "summary": "s"}})
    call(("GET", f"{R}/commits/{{ref}}/check-runs"), f"{base}/commits/feature/check-runs", 200, conductor)
    call(("GET", f"{R}/commits/{{ref}}/check-suites"), f"{base}/commits/{head}/check-suites", 200, conductor)

    merge = ("PUT", f"{pull}/merge")
    call(merge, f"{base}/pulls/99/merge", 404, conductor, json={})
    call(merge, f"{this}/merge", 422, conductor, json={"merge_method": "octopus"})
    call(merge, f"{this}/merge", 409, conductor, json={"sha": main, "merge_method": "squash"})
    assert control.post("/_sandbox/repos/acme/widgets/commits",
                        json={"branch": "clash", "files": {"README.md": "clash\n"}}).is_success
    clash = call(("POST", pulls), f"{base}/pulls", 201, dev,
                 json={"title": "Clash", "head": "clash", "base": "main"}).json()["number"]
    call(merge, f"{this}/merge", 200, conductor, json={"sha": head, "merge_method": "squash"})
    call(merge, f"{base}/pulls/{clash}/merge", 405, conductor, json={"merge_method": "squash"})
    call(("GET", f"{pull}/merge"), f"{this}/merge", 204, dev)

    assert call(('GET', '/app/hook/deliveries'), '/app/hook/deliveries', 200, dev_jwt).json() == [], \
        "an App sees only its own webhook's deliveries"
    _deliveries(call, conductor_jwt)
    return call.answers


def _deliveries(call: Driver, token: str) -> None:
    listed: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while len(listed) < 5 and time.monotonic() < deadline:
        listed = call.http.get("/app/hook/deliveries", headers={"Authorization": f"Bearer {token}"}).json()
        time.sleep(0.1)
    call(("GET", "/app/hook/deliveries"), "/app/hook/deliveries?per_page=5", 200, token)
    call(("GET", "/app/hook/deliveries"), "/app/hook/deliveries?cursor=bogus", 400, token)
    call(("GET", "/app/hook/deliveries"), "/app/hook/deliveries?per_page=zero", 422, token)
    first = listed[0]["id"]
    call(("GET", "/app/hook/deliveries/{delivery_id}"), f"/app/hook/deliveries/{first}", 200, token)
    call(("POST", "/app/hook/deliveries/{delivery_id}/attempts"), f"/app/hook/deliveries/{first}/attempts", 202,
         token)


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[Op, list[httpx.Response]]:
    folder = tmp_path_factory.mktemp("schemas")
    with receiving() as receiver, sandbox_process(folder / "data", RIG_SANDBOX_WEBHOOK_URL=receiver.url) as url:
        return drive(url)


def test_every_operation_of_the_subset_is_driven(answers):
    missing = [f"{method} {path}" for method, path in OPERATIONS if (method, path) not in answers]
    assert not missing, f"operations never driven: {missing}"
    assert len(OPERATIONS) == 38


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_each_answer_has_githubs_status_and_shape(answers, method, path):
    responses = SPEC[(method, path)]["responses"]
    assert answers.get((method, path)), "not driven"
    assert any(str(a.status_code).startswith("2") for a in answers[(method, path)]), "no success answer"
    for answer in answers[(method, path)]:
        code = str(answer.status_code)
        assert code in responses, f"{code} is not a status GitHub documents for {method} {path}"
        schema = responses[code].get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        validator = jsonschema.Draft4Validator(json_schema(schema))
        problems = [f"{'/'.join(map(str, e.absolute_path))} ({e.validator} at {'/'.join(map(str, e.schema_path))}): "
                    f"{e.message[-200:]}"
                    for e in validator.iter_errors(answer.json())]
        assert not problems, f"{method} {answer.request.url} → {code}:\n" + "\n".join(problems[:15])
