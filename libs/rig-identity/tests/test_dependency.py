"""The FastAPI dependency, through a real app: what a caller sees for each kind of token."""

# No `from __future__ import annotations`: the route below names a local dependency FastAPI must see as an object.

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from rig_contracts.catalogue import TokenRevokedEvent
from rig_identity import Authenticator, Principal, RevocationSet, generate_keypair, mint
from rig_service.forwarding import CLIENT_HEADER, attest

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


def runtime_app(trusted: list[str], edge_secret: str | None = None) -> FastAPI:
    authenticator = Authenticator(PUBLIC, RevocationSet(), [ip_network(n) for n in trusted], edge_secret)
    app = FastAPI()

    @app.post("/api/merge")
    async def merge(principal: Annotated[Principal, Depends(authenticator.require_runtime("merge:request"))]
                    ) -> dict[str, Any]:
        return {"subject": principal.subject, "as_review_e": principal.may_speak_as("agent:review-e"),
                "as_person": principal.may_speak_as("human:alice")}

    return app


@pytest.mark.parametrize(("trusted", "client_host", "status"), [
    ([], "127.0.0.1", 401),                   # off by default
    (["10.0.0.0/8"], "127.0.0.1", 401),       # outside the trusted range
    (["127.0.0.0/8"], "127.0.0.1", 200),
    (["fd00::/8"], "fd00::5", 200),
])
async def test_the_runtimes_token_less_calls_pass_only_from_trusted_networks(trusted, client_host, status):
    transport = httpx.ASGITransport(app=runtime_app(trusted), client=(client_host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://conductor") as http:
        answer = await http.post("/api/merge")
    assert answer.status_code == status, answer.text
    if status == 200:  # a trusted caller names any agent, but no person
        assert answer.json() == {"subject": f"network:{client_host}", "as_review_e": True, "as_person": False}


async def test_a_token_on_a_runtime_route_is_checked_as_ever_even_from_a_trusted_network():
    transport = httpx.ASGITransport(app=runtime_app(["127.0.0.0/8"]), client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://conductor") as http:
        forged = await http.post("/api/merge", headers=bearer(mint(generate_keypair()[0], "agent:x", ["admin"])))
        lacking = await http.post("/api/merge", headers=bearer(mint(PRIVATE, "agent:dev-e-node", ["events:write"])))
        good = await http.post("/api/merge", headers=bearer(mint(PRIVATE, "agent:review-e", ["merge:request"])))
    assert (forged.status_code, lacking.status_code) == (401, 403)
    assert good.json() == {"subject": "agent:review-e", "as_review_e": True, "as_person": False}


EDGE_SECRET = "edge-secret-" + "e" * 40


def statement(kind: str) -> dict[str, str]:
    """Headers a caller sends, made when the test runs (a signed address is fresh for a minute only)."""
    signed = {"edge": (EDGE_SECRET, "10.9.0.5", None), "edge saw an outsider": (EDGE_SECRET, "127.0.0.1", None),
              "another key": ("x" * 40, "10.9.0.5", None), "replayed": (EDGE_SECRET, "10.9.0.5", 0.0)}
    if kind == "forwarded-for":
        return {"X-Forwarded-For": "10.9.0.5"}
    if kind in signed:
        secret, address, now = signed[kind]
        return {CLIENT_HEADER: attest(secret, address, now)}
    return {}


@pytest.mark.parametrize(("peer", "kind", "status"), [
    ("10.9.0.5", "none", 200),                      # the runtime, directly
    ("127.0.0.1", "forwarded-for", 401),            # X-Forwarded-For is never read
    ("127.0.0.1", "edge", 200),                     # the edge vouches for the runtime
    ("127.0.0.1", "edge saw an outsider", 401),
    ("127.0.0.1", "another key", 401),              # signed by someone else
    ("10.9.0.5", "another key", 401),               # a bad statement is no address, not the peer's
    ("127.0.0.1", "replayed", 401),                 # signed long ago
])
async def test_a_forwarded_address_counts_only_when_the_edge_signed_it(peer, kind, status):
    transport = httpx.ASGITransport(app=runtime_app(["10.9.0.0/16"], EDGE_SECRET), client=(peer, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://conductor") as http:
        answer = await http.post("/api/merge", headers=statement(kind))
    assert answer.status_code == status, answer.text


async def test_without_the_edge_secret_a_signed_address_is_not_believed():
    transport = httpx.ASGITransport(app=runtime_app(["10.9.0.0/16"]), client=("10.9.0.5", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://conductor") as http:
        answer = await http.post("/api/merge", headers={CLIENT_HEADER: attest(EDGE_SECRET, "10.9.0.5")})
    assert answer.status_code == 401, answer.text
