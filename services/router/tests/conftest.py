"""Fixtures of the workflow tests: none yet; the helpers live in workflow_support, a plain module imported by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
