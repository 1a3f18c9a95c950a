"""Print a benchmark's table and write its JSON with pass/fail per target."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


@dataclass
class Figure:
    """One measured figure and the target it is held to (higher is better unless `lower_is_better`)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    lower_is_better: bool = False
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target


def write(bench: str, figures: list[Figure], context: dict[str, Any]) -> Path:
    """Print the table and write `results/<bench>.json`; return its path."""
    print(f"\n{bench}")
    print(f"{'figure':<44} {'value':>12} {'unit':<10} {'target':>10}  result")
    for f in figures:
        target = "" if f.target is None else f"{f.target:g}"
        verdict = {True: "PASS", False: "MISS", None: "-"}[f.passed]
        print(f"{f.name:<44} {f.value:>12,.1f} {f.unit:<10} {target:>10}  {verdict}")
        if f.passed is False and f.profile:
            print(f"  where the time goes: {json.dumps(f.profile)}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{bench}.json"
    path.write_text(json.dumps({
        "bench": bench, "at": datetime.now(UTC).isoformat(), "machine": platform.platform(),
        "context": context,
        "figures": [{**asdict(f), "passed": f.passed} for f in figures],
    }, indent=2))
    print(f"written {path}")
    return path
