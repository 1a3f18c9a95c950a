"""Prometheus metrics of the edge, per upstream service (served at /services/edge/metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

UNROUTED = "none"
"""The `service` label of requests no service owns (answered 404 by the edge itself)."""

REQUESTS = Counter(
    "rig_edge_requests", "Requests the edge answered, by the service that owns the path and the status sent back",
    ["service", "code"],
)
LATENCY = Histogram(
    "rig_edge_upstream_latency_seconds",
    "Seconds from receiving a request to having the owning service's response headers (bodies stream on after)",
    ["service"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ERRORS = Counter(
    "rig_edge_upstream_errors",
    "Requests a service did not answer properly: refused (502), timeout (504), protocol (502), or stream "
    "(the body broke off after the headers were sent)",
    ["service", "kind"],
)
