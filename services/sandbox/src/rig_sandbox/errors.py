"""GitHub's error answers: `{"message", "documentation_url", "status"}`, with `errors` on validation failures.

Every way a request can go wrong ends here, shaped as GitHub shapes it: unknown paths and methods answer 404
`Not Found`, unparsable JSON 400 `Problems parsing JSON`, a body of the wrong shape 422 `Validation Failed`
(with one entry per problem), and anything unexpected 500 `Server Error` (logged with its traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

DOCS = "https://docs.github.com/rest"
"""Where GitHub's errors point when no page is more specific."""


class GitHubError(Exception):
    """An error answer GitHub would give: raise it anywhere below a route."""

    def __init__(self, status: int, message: str, *, errors: Sequence[Any] | None = None,
                 documentation_url: str = DOCS, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors) if errors is not None else None
        self.documentation_url = documentation_url
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body GitHub sends with this error."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return body


def not_found(documentation_url: str = DOCS) -> GitHubError:
    """404 `Not Found`, GitHub's answer for anything missing or not visible to the caller."""
    return GitHubError(404, "Not Found", documentation_url=documentation_url)


def validation_failed(resource: str, field: str, code: str = "invalid", **extra: Any) -> GitHubError:
    """422 `Validation Failed` with one error about `resource.field` (`code`: missing_field, invalid, …)."""
    return GitHubError(422, "Validation Failed", errors=[{"resource": resource, "field": field, "code": code, **extra}])


def custom_validation(resource: str, message: str) -> GitHubError:
    """422 `Validation Failed` with one `custom` error carrying `message` (as GitHub words its refusals)."""
    return GitHubError(422, "Validation Failed", errors=[{"resource": resource, "code": "custom", "message": message}])


def bad_credentials() -> GitHubError:
    """401 `Bad credentials`: an unknown, malformed or expired token."""
    return GitHubError(401, "Bad credentials")


def install_handlers(app: FastAPI) -> None:
    """Answer every error of `app` in GitHub's shape."""
    app.add_exception_handler(GitHubError, _github_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def error_response(error: GitHubError) -> JSONResponse:
    """The response for `error`."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _github_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GitHubError)
    return error_response(error)


async def _request_invalid(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = list(error.errors())
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return error_response(GitHubError(400, "Problems parsing JSON"))
    if any(tuple(problem.get("loc", ()))[:1] == ("path",) for problem in problems):
        # `/issues/abc` names nothing: GitHub answers a path it cannot read with 404.
        return error_response(not_found())
    errors = []
    for problem in problems:
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = ".".join(location) or "body"
        code = "missing_field" if problem.get("type") == "missing" else "invalid"
        errors.append({"resource": "Request", "field": field, "code": code, "message": str(problem.get("msg"))})
    return error_response(GitHubError(422, "Validation Failed", errors=errors))


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code in (404, 405):
        # GitHub answers a path or method it does not serve with 404 Not Found.
        return error_response(not_found())
    return error_response(GitHubError(error.status_code, str(error.detail)))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(GitHubError(500, "Server Error"))
