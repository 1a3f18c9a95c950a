"""Lets these tests import their plain helper module (hook_support) by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
