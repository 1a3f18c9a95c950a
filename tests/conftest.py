"""Lets the cross-service tests import their plain helper modules by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
