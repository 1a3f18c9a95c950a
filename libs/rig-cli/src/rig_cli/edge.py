"""The services' HTTP APIs through the edge, called as the operator with a short-lived `admin` token of our own."""

from __future__ import annotations

import time
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

import click
import httpx

from rig_cli.bootstrap import SigningKey
from rig_identity.tokens import ADMIN, mint


class AdminToken:
    """Mints the tool's own `admin` token and renews it once half its life is gone, so long commands keep going."""

    def __init__(self, key: SigningKey, subject: str, ttl_s: int) -> None:
        self.key = key
        self._subject = subject
        self._ttl_s = ttl_s
        self._token = ""
        self._minted_at = 0.0

    def current(self) -> str:
        """A token with at least half its lifetime left."""
        now = time.monotonic()
        if not self._token or now - self._minted_at > self._ttl_s / 2:
            self._token = mint(self.key.private_pem, self._subject, [ADMIN], ttl=timedelta(seconds=self._ttl_s))
            self._minted_at = now
        return self._token


class Edge:
    """An HTTP client of the edge whose failures read as what to do next."""

    def __init__(self, base_url: str, token: AdminToken, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._http.aclose()

    async def send(self, method: str, path: str, body: object = None) -> httpx.Response:
        """Send one request with the admin token; raise a ClickException only when the edge cannot be reached."""
        headers = {"Authorization": f"Bearer {self._token.current()}"}
        try:
            return await self._http.request(method, path, json=body, headers=headers)
        except httpx.TimeoutException as error:
            raise click.ClickException(
                f"{method} {self.base_url}{path} got no answer in time ({type(error).__name__}): check the service "
                "with `rig status`, or allow longer with RIG_HTTP_TIMEOUT_S") from error
        except httpx.TransportError as error:
            raise click.ClickException(
                f"cannot reach the edge at {self.base_url} ({type(error).__name__}: {error}): start the system "
                "with `make run`, or point RIG_EDGE_URL at the edge") from error

    async def call(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        """Send one request and return its JSON object; any other answer becomes an error saying what to do."""
        response = await self.send(method, path, body)
        if response.is_success:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict):
                return data
            raise click.ClickException(f"{method} {self.base_url}{path} answered {response.status_code} without a "
                                       f"JSON object ({response.text[:200]!r}): is RIG_EDGE_URL the edge?")
        raise click.ClickException(self.explain(method, path, response))

    def explain(self, method: str, path: str, response: httpx.Response) -> str:
        """Say why a request failed and what to do about it."""
        where = f"{method} {self.base_url}{path} answered {response.status_code}"
        detail = _detail(response)
        if response.status_code in (401, 403):
            return (f"{where} ({detail}): the services must verify tokens with the public half of the key the "
                    f"CLI signs with ({self._token.key.origin}); give them that key (`rig tokens keygen` shows "
                    "it) or give the CLI theirs in RIG_TOKEN_PRIVATE_KEY")
        if response.status_code == 404:
            return (f"{where} ({detail}): the service is not routed or does not offer this yet; check it is up "
                    "with `rig status` and runs a version with this API")
        if response.status_code == 409:
            return f"{where} ({detail}): another operation is under way; wait for it, then run the command again"
        return f"{where} ({detail}): see that service's log for the cause, then run the command again"


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:300]
    return str(data)[:300]
