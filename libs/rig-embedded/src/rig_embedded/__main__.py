"""`python -m rig_embedded`: start the embedded servers (unless URLs are given), print where they are, wait."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from rig_embedded.servers import resolve
from rig_service.settings import CommonSettings


def main() -> None:
    """Start what is missing, say so, and keep it running until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = CommonSettings()
    urls = resolve(settings.database_url, settings.redis_url, Path(settings.data_dir))
    for name, url in (("postgres", urls.database_url), ("redis", urls.redis_url)):
        origin = f"embedded, data in {settings.data_dir}/{name}" if name in urls.embedded else "given by RIG_ setting"
        print(f"{name:<9} {url}  ({origin})", flush=True)
    print("services start here once they exist; press Ctrl-C to stop", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    print("stopping embedded servers", flush=True)


if __name__ == "__main__":
    main()
