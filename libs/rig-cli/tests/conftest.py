"""Lets these tests import their plain helper modules (cli_support, cli_edge) by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
