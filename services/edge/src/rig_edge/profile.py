"""Where the edge's time goes: cProfile over the whole process, for benchmarks (RIG_EDGE_PROFILE=true)."""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path
from typing import Any

from fastapi import APIRouter

TOP = 25
"""How many functions `/profile` lists."""


class ProcessProfile:
    """A cProfile of the event loop's thread, started at start-up and read (and reset) over HTTP."""

    def __init__(self) -> None:
        self.profiler = cProfile.Profile()

    def start(self) -> None:
        """Begin profiling every call in this thread (the event loop's)."""
        self.profiler.enable()

    def stop(self) -> None:
        """Stop profiling."""
        self.profiler.disable()

    def top(self, n: int = TOP) -> dict[str, Any]:
        """The `n` functions with the most time spent in their own code, then start counting afresh."""
        self.profiler.disable()
        stats = pstats.Stats(self.profiler)
        rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
        total = sum(row[1][2] for row in rows)
        self.profiler = cProfile.Profile()
        self.profiler.enable()
        by_package: dict[str, float] = {}
        for (file, _, name), row in rows:
            package = _package(file, name)
            by_package[package] = by_package.get(package, 0.0) + row[2]
        return {
            "total_s": round(total, 4),
            "own_s_by_package": {name: round(own, 4) for name, own in
                                 sorted(by_package.items(), key=lambda item: item[1], reverse=True)},
            "top_by_own_time": [
                {"function": f"{file.rsplit('/', 2)[-1]}:{line}:{name}", "calls": calls, "own_s": round(own, 4),
                 "cumulative_s": round(cumulative, 4)}
                for (file, line, name), (_, calls, own, cumulative, _) in rows[:n]
            ],
        }


def _package(file: str, name: str) -> str:
    # Installed package (…/site-packages/httpx/…, …/src/rig_edge/…), else the standard module (asyncio, ssl…).
    if file == "~":
        return "idle (waiting in epoll)" if "poll" in name else "built-in calls (socket I/O, C code)"
    for marker in ("site-packages/", "/src/"):
        if marker in file:
            return file.split(marker, 1)[1].split("/", 1)[0]
    path = Path(file)
    return "asyncio" if path.parent.name == "asyncio" else path.stem


def profile_router(profile: ProcessProfile) -> APIRouter:
    """`GET /profile`: the process profile so far (then reset)."""
    router = APIRouter(tags=["profile"])

    @router.get("/profile", summary="Functions by own time since the last call (benchmarks only)")
    async def read_profile(top: int = TOP) -> dict[str, Any]:  # async: cProfile counts the event loop thread
        return profile.top(top)

    return router
