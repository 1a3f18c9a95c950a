"""Prometheus metrics of the GitHub client: every call, its latency, retries and token refreshes."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CALLS = Counter(
    "rig_github_calls_total", "GitHub operations by role, operation and outcome (ok or the error kind)",
    ["role", "operation", "outcome"])
LATENCY = Histogram(
    "rig_github_call_seconds", "Time of one GitHub operation in the thread pool, retries and waits included",
    ["role", "operation"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
RETRIES = Counter(
    "rig_github_retries_total", "HTTP requests retried by GithubRetry, by the status (or error) that caused it",
    ["role", "operation", "status"])
TOKENS = Counter("rig_github_installation_tokens_total", "Installation tokens fetched, by role", ["role"])
IN_FLIGHT = Gauge("rig_github_calls_in_flight", "GitHub operations running in the thread pool", ["role"])
