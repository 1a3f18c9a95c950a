"""`make run` (`python -m rig_supervisor.main`) as the tests start it: on a free range of ports, dying with the
test run whatever happens to it, stopped by Ctrl-C and killed if it does not stop."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

from rig_service.topology import load
from rig_supervisor.process import dying_with_this_process
from rig_testing.servers import port_open


def free_offset() -> int:
    """A `RIG_PORT_OFFSET` under which no port of the topology is taken."""
    topology = load()
    ports = [topology.edge.port, *(s.port for s in topology.services.values())]
    for _ in range(50):
        offset = random.randrange(20_000, 40_000, 100)
        if not any(port_open("127.0.0.1", p + offset) for p in ports):
            return offset
    raise RuntimeError("no free port range")


def start_make_run(env: dict[str, str]) -> subprocess.Popen[str]:
    """The supervisor with `env`, its output on a text pipe; it dies with this process (PR_SET_PDEATHSIG)."""
    return subprocess.Popen([sys.executable, "-m", "rig_supervisor.main"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=dying_with_this_process())  # noqa: PLW1509 (system calls only)


def until_running(process: subprocess.Popen[str], within_s: float = 90) -> list[str]:
    """The supervisor's output lines up to the one saying it runs (Ctrl-C stops it)."""
    output: list[str] = []
    deadline = time.monotonic() + within_s
    assert process.stdout is not None
    while not any("Press Ctrl-C" in line for line in output):
        line = process.stdout.readline()
        assert line and time.monotonic() < deadline, "".join(output)
        output.append(line)
    return output


def stop_make_run(process: subprocess.Popen[str]) -> str:
    """Ctrl-C, as a person stops it; the rest of its output. Killed (its children with it) if it does not stop."""
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return rest
