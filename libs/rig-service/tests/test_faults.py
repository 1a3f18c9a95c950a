"""Fault points: a process exits with status 137 exactly at the armed point, and never when none is armed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rig_service.faults import FAULT_EXIT_STATUS

PROGRAM = """
from rig_service.faults import FaultPoints
from rig_service.settings import CommonSettings

faults = FaultPoints(CommonSettings().fault_point)
for step in ("relay.after_read", "relay.after_publish", "relay.after_mark"):
    faults.reach(step)
    print("passed", step, flush=True)
print("finished", flush=True)
"""


def run(fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RIG_")}
    if fault is not None:
        env["RIG_FAULT_POINT"] = fault
    return subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_the_process_exits_with_137_at_the_armed_point() -> None:
    done = run("relay.after_publish")

    assert done.returncode == FAULT_EXIT_STATUS == 137
    assert done.stdout.splitlines() == ["passed relay.after_read"]


@pytest.mark.parametrize("fault", [None, "", "relay.never_reached"])
def test_without_an_armed_point_that_is_reached_the_process_runs_to_the_end(fault: str | None) -> None:
    done = run(fault)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "finished"
