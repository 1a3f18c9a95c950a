"""Lets the sandbox tests import their plain helper module (sandbox_support) by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
