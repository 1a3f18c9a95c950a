"""The FastAPI dependency, through a real app: what a caller sees for each kind of token."""

# No `from __future__ import annotations`: the route below names a local dependency FastAPI must see as an object.

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from rig_contracts.catalogue import TokenRevokedEvent
from rig_identity import Authenticator, Principal, RevocationSet, generate_keypair, mint

PRIVATE, PUBLIC = generate_keypair()


@pytest.fixture
def revocations() -> RevocationSet:
    return RevocationSet()


@pytest.fixture
async def client(revocations: RevocationSet) -> AsyncIterator[httpx.AsyncClient]:
    authenticator = Authenticator(PUBLIC, revocations)
    app = FastAPI()

    @app.post("/api/runs")
    async def start_run(principal: Annotated[Principal, Depends(authenticator.require("runs:write"))]
                        ) -> dict[str, str]:
        return {"subject": principal.subject}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://conductor") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthenticated(response: httpx.Response, says: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert says in response.json()["detail"]


async def test_a_token_with_the_scope_is_let_through(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/runs", headers=bearer(mint(PRIVATE, "agent:dev-e-node", ["runs:write"])))

    assert response.status_code == 200
    assert response.json() == {"subject": "agent:dev-e-node"}


async def test_admin_satisfies_every_scope(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/runs", headers=bearer(mint(PRIVATE, "human:ops", ["admin"])))

    assert response.status_code == 200


async def test_a_token_without_the_scope_is_forbidden(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/runs", headers=bearer(mint(PRIVATE, "agent:review-e", ["read", "events:write"])))

    assert response.status_code == 403
    assert "lacks scope `runs:write`" in response.json()["detail"]
    assert "--scope runs:write" in response.json()["detail"]


async def test_an_expired_token_is_refused(client: httpx.AsyncClient) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=91)
    token = mint(PRIVATE, "agent:dev-e-node", ["runs:write"], now=long_ago)

    response = await client.post("/api/runs", headers=bearer(token))

    assert_unauthenticated(response, "token expired")
    assert "rig tokens create" in response.json()["detail"]


async def test_a_token_revoked_by_event_is_refused(client: httpx.AsyncClient, revocations: RevocationSet) -> None:
    token = mint(PRIVATE, "agent:dev-e-node", ["runs:write"])
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    assert (await client.post("/api/runs", headers=bearer(token))).status_code == 200

    revoked = TokenRevokedEvent.of(
        source="human:ops", subject="token", key=f"revoke:{claims['jti']}",
        data={"jti": claims["jti"], "expires_at": datetime.fromtimestamp(claims["exp"], UTC),
              "revoked_by": "human:ops"})
    assert revocations.apply(revoked)

    assert_unauthenticated(await client.post("/api/runs", headers=bearer(token)), "was revoked")


async def test_a_token_signed_with_another_key_is_refused(client: httpx.AsyncClient) -> None:
    other_private, _ = generate_keypair()
    forged = mint(other_private, "agent:dev-e-node", ["admin"])

    assert_unauthenticated(await client.post("/api/runs", headers=bearer(forged)), "signature")


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
async def test_a_token_of_another_algorithm_is_refused(client: httpx.AsyncClient, algorithm: str) -> None:
    claims = jwt.decode(mint(PRIVATE, "human:mallory", ["admin"]), options={"verify_signature": False})
    if algorithm == "none":
        header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"{header}.{payload}."
    else:
        token = jwt.encode(claims, "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256")

    assert_unauthenticated(await client.post("/api/runs", headers=bearer(token)), "only EdDSA is accepted")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwdw=="}])
async def test_a_request_without_a_bearer_token_is_refused(client: httpx.AsyncClient, headers: dict[str, str]
                                                           ) -> None:
    response = await client.post("/api/runs", headers=headers)

    assert_unauthenticated(response, "missing bearer token")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_malformed_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_unauthenticated(await client.post("/api/runs", headers=bearer("garbage")), "malformed token")


def test_requiring_an_unknown_scope_fails_at_wiring_time() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        Authenticator(PUBLIC, RevocationSet()).require("runs:delete")
