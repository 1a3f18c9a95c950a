#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit status 0 when the process on RIG_PORT answers 200 to GET /healthz.

The edge answers its own under /services/edge, since it forwards every other path.
"""

import os
import sys
import urllib.request

service = os.environ.get("RIG_SERVICE", "")
path = "/services/edge/healthz" if service == "edge" else "/healthz"
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{os.environ['RIG_PORT']}{path}", timeout=3) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except OSError as error:
    print(f"{service or 'process'} on port {os.environ.get('RIG_PORT')} is not healthy: {error}", file=sys.stderr)
    sys.exit(1)
