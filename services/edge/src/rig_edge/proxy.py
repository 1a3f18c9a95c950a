"""Forwarding one request to the service that owns its path, streaming the answer back as it comes.

Built on `fastapi-proxy-lib` (`BaseHttpProxy.send_request_to_target`) rather than `asgiproxy`, because:

- it always asks httpx for a streamed response and hands back `aiter_raw()` chunk by chunk, whatever the
  status and length, so a `text/event-stream` reaches the client event by event. `asgiproxy` 0.2.0 reads the
  whole body into memory before answering unless the status is 200 *and* the length is unknown or > 5 MB, so
  error bodies and ordinary JSON wait for their last byte;
- it streams request bodies (`request.stream()`); `asgiproxy` buffers bodies of 512 KiB and more (its
  threshold test is inverted) and lets only 20 upstream requests run at once (a fixed semaphore);
- it takes the `httpx.AsyncClient` we give it, so we choose the pool (keep-alive, TCP_NODELAY, retries off, no
  proxy variables, no cookie jar), and the target URL is chosen per request, which is what a route table needs.

One pooled client per upstream service, shared by every request to it: httpcore's pool walks all of its
connections (with a readability syscall per idle one) each time a request comes or goes, so one pool for
everything makes ingest's requests pay for the dashboard's long-lived event streams, and a burst that grows a
pool makes every later request slower. Pools per service, with a bounded number of idle connections, keep
that walk short (in bench/edge.py's profile it was the largest single cost once a burst had grown the pool).

What the library leaves to us, done here: the route itself, hop-by-hop headers both ways, X-Forwarded-*,
distinct 502/504 answers that say what to do, closing the upstream response when the client goes away, and
keeping repeated response headers (Set-Cookie) apart (the library joins them; we copy the raw list).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from contextvars import ContextVar
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from fastapi_proxy_lib.core.http import BaseHttpProxy
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from rig_edge import metrics
from rig_edge.exposure import Exposure
from rig_edge.settings import EdgeSettings
from rig_service.forwarding import CLIENT_HEADER, attest
from rig_service.topology import SERVICE_PREFIX, ServiceSpec, Topology

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                        b"trailer", b"transfer-encoding", b"upgrade"})
"""Headers that describe one connection, never forwarded (RFC 9110 section 7.6.1)."""

SERVER_OWNED = frozenset({b"date", b"server"})
"""Response headers the edge's own HTTP server writes; an upstream's copy would appear twice."""

FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", CLIENT_HEADER.encode()})
"""Headers about the client that the edge writes itself; a caller's copies are dropped, never passed on."""

_upstream_response: ContextVar[httpx.Response | None] = ContextVar("upstream_response", default=None)
_target: ContextVar[httpx.URL | None] = ContextVar("target", default=None)


async def _remember_response(response: httpx.Response) -> None:
    # httpx calls response hooks in the task that sent the request, so the caller reads this right after.
    _upstream_response.set(response)


async def _restore_request(request: httpx.Request) -> None:
    # httpx re-encodes the query the library passes as params (`a%20b` becomes `a+b`, repeated keys are grouped):
    # send the URL exactly as the client wrote it. The library also sets `Cookie: ""` (so no jar cookie is added)
    # and `Connection: keep-alive,`; the upstream needs neither, httpcore keeps connections alive by itself.
    target = _target.get()
    if target is not None:
        request.url = target
    if request.headers.get("cookie") == "":
        del request.headers["cookie"]
    request.headers.pop("connection", None)


def upstream_client(settings: EdgeSettings) -> httpx.AsyncClient:
    """A pooled, keep-alive HTTP client for one upstream service."""
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=settings.upstream_max_connections,
                            max_keepalive_connections=settings.upstream_keepalive_connections,
                            keepalive_expiry=settings.upstream_keepalive_s),
        # asyncio already sets TCP_NODELAY on TCP transports; saying so keeps it true on any backend.
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        retries=0,
    )
    timeout = httpx.Timeout(connect=settings.upstream_connect_timeout_s, read=None,
                            write=settings.upstream_response_timeout_s, pool=settings.upstream_response_timeout_s)
    client = httpx.AsyncClient(
        transport=transport, timeout=timeout, trust_env=False, follow_redirects=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # never keep a client's cookies
        event_hooks={"request": [_restore_request], "response": [_remember_response]},
    )
    # Send only the client's headers: httpx's defaults (Accept-Encoding: gzip, its User-Agent) would make an
    # upstream compress a body for a client that never asked for it.
    for name in list(client.headers):
        del client.headers[name]
    return client


def upstream_urls(topology: Topology, settings: EdgeSettings) -> dict[str, str]:
    """Base URL of every service: its RIG_UPSTREAMS override, else http://{upstream_host}:{port}."""
    unknown = sorted(set(settings.upstreams) - set(topology.services))
    if unknown:
        raise ValueError(f"RIG_UPSTREAMS names services the topology lacks: {', '.join(unknown)}; "
                         f"known: {', '.join(topology.services)}")
    return {name: settings.upstreams.get(name, f"http://{settings.upstream_host}:{spec.port}")
            for name, spec in topology.services.items()}


def request_headers(scope: Scope, edge_secret: str | None = None) -> list[tuple[bytes, bytes]]:
    """The client's headers as sent on: hop-by-hop ones dropped, the client's own X-Forwarded-* replaced.

    X-Forwarded-For is the peer the edge saw and nothing the client wrote (a forged chain must not reach a
    service); with `edge_secret`, X-Rig-Client states that peer, signed (rig_service.forwarding), which is the
    only forwarded address a service believes. X-Forwarded-Proto is the scheme uvicorn settled on,
    X-Forwarded-Host the Host the client asked for.
    """
    dropped = HOP_BY_HOP | FORWARDED | _connection_tokens(scope["headers"])
    headers = [(name, value) for name, value in scope["headers"] if name not in dropped]
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    client = scope.get("client")
    peer = client[0] if client else ""
    if peer:
        headers.append((b"x-forwarded-for", peer.encode("latin-1")))
        if edge_secret:
            headers.append((CLIENT_HEADER.encode(), attest(edge_secret, peer).encode("latin-1")))
    headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")))
    if host:
        headers.append((b"x-forwarded-host", host))
    return headers


def response_headers(upstream: httpx.Response) -> list[tuple[bytes, bytes]]:
    """The service's response headers as sent back: raw (repeats kept apart), minus hop-by-hop ones."""
    raw = upstream.headers.raw
    dropped = HOP_BY_HOP | SERVER_OWNED | _connection_tokens(raw)
    return [(name.lower(), value) for name, value in raw if name.lower() not in dropped]


def _connection_tokens(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    # Connection may name further headers that belong to this hop only.
    return frozenset(token.strip().lower() for name, value in headers if name.lower() == b"connection"
                     for token in value.split(b","))


def forwarded_raw_path(scope: Scope, service: str, forwarded: str) -> bytes:
    """The path to send, percent-escapes kept as the client wrote them, with /services/<name> stripped if so routed."""
    path: str = scope["path"]
    raw: bytes = scope.get("raw_path") or path.encode()
    if forwarded == path:
        return raw
    prefix = f"{SERVICE_PREFIX}{service}/".encode()
    if raw.startswith(prefix):
        return raw[len(prefix) - 1:]
    return forwarded.encode()  # the client escaped part of the prefix itself: send the decoded path


class EdgeProxy:
    """The ASGI app that forwards every HTTP request the edge does not answer itself."""

    def __init__(self, topology: Topology, upstreams: dict[str, str], settings: EdgeSettings,
                 source: str = "topology.toml") -> None:
        self.topology = topology
        self.upstreams = upstreams
        self.bases = {name: httpx.URL(url) for name, url in upstreams.items()}
        self.settings = settings
        self.source = source
        self.exposure = Exposure.of(upstreams, settings.github_api_url)
        self.proxies: dict[str, BaseHttpProxy] = {}
        self._edge_secret = settings.edge_secret.get_secret_value() if settings.edge_secret else None

    async def start(self) -> None:
        """Open a connection pool per service (at application start-up)."""
        self.proxies = {name: BaseHttpProxy(upstream_client(self.settings), follow_redirects=False)
                        for name in self.upstreams}

    async def stop(self) -> None:
        """Close every pooled connection (at shutdown)."""
        proxies, self.proxies = self.proxies, {}
        for proxy in proxies.values():
            await proxy.aclose()

    async def ready(self) -> None:
        """Readiness check: the connection pools are open."""
        if not self.proxies or any(proxy.client.is_closed for proxy in self.proxies.values()):
            raise RuntimeError("the upstream connection pools are not open (start-up has not finished)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Forward one HTTP request to the service owning its path, or answer 404 when none does."""
        routed = self.topology.route(scope["path"])
        if routed is not None and not self.exposure.allows(scope["path"], *routed):
            routed = None  # answered exactly like a path nobody owns, so nothing tells what lies behind it
        if routed is None:
            metrics.REQUESTS.labels(metrics.UNROUTED, "404").inc()
            detail = f"no service owns {scope['path']} (see {self.source})"
            await JSONResponse({"detail": detail}, status_code=404)(scope, receive, send)
            return
        spec, forwarded = routed
        response = await self._forward(scope, receive, spec, forwarded)
        await self._answer(response, spec, scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, spec: ServiceSpec, forwarded: str) -> Response:
        proxy = self.proxies.get(spec.name)
        if proxy is None:
            raise RuntimeError("the edge received a request before its lifespan started the connection pools")
        base = self.bases[spec.name]
        raw_path = base.raw_path.rstrip(b"/") + forwarded_raw_path(scope, spec.name, forwarded)
        query: bytes = scope.get("query_string", b"")
        target = base.copy_with(raw_path=raw_path + b"?" + query if query else raw_path)
        request = Request({**scope, "headers": request_headers(scope, self._edge_secret)}, receive)
        started = time.perf_counter()
        _upstream_response.set(None)
        _target.set(target)
        try:
            async with asyncio.timeout(self.settings.upstream_response_timeout_s):
                response = await proxy.send_request_to_target(request=request, target_url=target)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            return self._failed(spec, "refused", 502, error,
                                f"{spec.name} at {self.upstreams[spec.name]} is not answering ({error or 'refused'}): "
                                "is it running? `make run` starts every service")
        except (TimeoutError, httpx.TimeoutException) as error:
            return self._failed(spec, "timeout", 504, error,
                                f"{spec.name} at {self.upstreams[spec.name]} sent no response within "
                                f"{self.settings.upstream_response_timeout_s:g} s: see its log for what it is "
                                "waiting on, or raise RIG_UPSTREAM_RESPONSE_TIMEOUT_S")
        except httpx.TransportError as error:
            return self._failed(spec, "protocol", 502, error,
                                f"{spec.name} at {self.upstreams[spec.name]} broke off the exchange "
                                f"({type(error).__name__}: {error}): see its log")
        metrics.LATENCY.labels(spec.name).observe(time.perf_counter() - started)
        upstream = _upstream_response.get()
        if upstream is not None:
            response.raw_headers = response_headers(upstream)
        return response

    def _failed(self, spec: ServiceSpec, kind: str, status: int, error: Exception, detail: str) -> Response:
        metrics.ERRORS.labels(spec.name, kind).inc()
        log.warning("%s (%s: %s)", detail, type(error).__name__, error)
        return JSONResponse({"detail": detail}, status_code=status)

    async def _answer(self, response: Response, spec: ServiceSpec, scope: Scope, receive: Receive,
                      send: Send) -> None:
        upstream = _upstream_response.get()
        if upstream is not None and "content-length" in upstream.headers:
            # A body of known length ends by itself: skip Starlette's per-response disconnect watcher (a task
            # group, ~0.25 ms of CPU here) by declaring ASGI 2.4. Streams of unknown length (SSE) keep it, so
            # a client that leaves stops the upstream read.
            scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": "2.4"}}
        try:
            await response(scope, receive, send)
        except ClientDisconnect:
            log.debug("client went away during %s's response to %s", spec.name, scope["path"])
        except httpx.TransportError as error:
            metrics.ERRORS.labels(spec.name, "stream").inc()
            log.warning("%s's response to %s broke off after the headers: %s: %s",
                        spec.name, scope["path"], type(error).__name__, error)
            raise
        finally:
            if upstream is not None:
                await upstream.aclose()  # also when the client left mid-stream: the connection goes back
            metrics.REQUESTS.labels(spec.name, str(response.status_code)).inc()
