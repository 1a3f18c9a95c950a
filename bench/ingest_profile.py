"""One ingest process (uvicorn, as in production) whose cProfile covers only the measured window.

`python -m bench.ingest_profile --port P --output FILE`: SIGUSR1 starts profiling, SIGUSR2 stops it and writes
FILE (pstats format). Start-up (imports, migrations) and shutdown stay out of the profile, which a plain
`python -m cProfile` of the server could not do.
"""

from __future__ import annotations

import argparse
import cProfile
import signal
from pathlib import Path
from types import FrameType

import uvicorn


def main() -> None:
    """Serve ingest on the given port; profile between SIGUSR1 and SIGUSR2."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_profile", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    profiler = cProfile.Profile()

    def start(_signal: int, _frame: FrameType | None) -> None:
        profiler.enable()

    def finish(_signal: int, _frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(str(args.output))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, finish)
    uvicorn.run("rig_ingest.app:create_app", factory=True, host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
