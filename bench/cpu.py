"""Which processes used the machine's CPU during a measured stretch, in cores (CPU seconds per wall second).

A throughput bench on a small machine is often bound by the CPU the load, the server and the database share;
this says how much each took, so a missed target shows whether the server or the machine ran out.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil  # type: ignore[import-untyped]

Finder = Callable[[], list[psutil.Process]]


def named(*names: str) -> Finder:
    """Every running process whose name is one of `names` (such as PostgreSQL's backends)."""
    return lambda: [p for p in psutil.process_iter(["name"]) if p.info["name"] in names]


def tree(pid: int) -> Finder:
    """A process and its children (such as uvicorn's workers)."""
    def find() -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
    return find


def _cpu(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def cores(groups: dict[str, Finder], into: dict[str, float]) -> Iterator[None]:
    """Fill `into` with the cores each group used while the block ran, plus `children` (processes this one ran
    and waited for inside the block, such as a load generator), `machine` (all busy CPU) and `cpus`.

    A process of a group that ended inside the block is not counted (its CPU is gone with it)."""
    before = {name: _cpu(find()) for name, find in groups.items()}
    children, machine, started = _children_cpu(), psutil.cpu_times(), time.monotonic()
    yield
    wall = max(time.monotonic() - started, 1e-9)
    for name, find in groups.items():
        after = _cpu(find())
        into[name] = round(sum(t - before[name].get(pid, 0.0) for pid, t in after.items()) / wall, 2)
    into["children"] = round((_children_cpu() - children) / wall, 2)
    now = psutil.cpu_times()
    into["machine"] = round(((now.user + now.system) - (machine.user + machine.system)) / wall, 2)
    into["cpus"] = float(psutil.cpu_count() or 1)
