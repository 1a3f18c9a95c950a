#!/usr/bin/env python3
"""The image's HEALTHCHECK: GET /healthz of the process on RIG_PORT (the edge answers its own under /services/edge,
since every other path is forwarded). Exit status 0 when it answers 200."""

import os
import sys
import urllib.request

service = os.environ.get("RIG_SERVICE", "")
path = "/services/edge/healthz" if service == "edge" else "/healthz"
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{os.environ['RIG_PORT']}{path}", timeout=3) as answer:  # noqa: S310
        sys.exit(0 if answer.status == 200 else 1)
except OSError as error:
    print(f"{service or 'process'} on port {os.environ.get('RIG_PORT')} is not healthy: {error}", file=sys.stderr)
    sys.exit(1)
