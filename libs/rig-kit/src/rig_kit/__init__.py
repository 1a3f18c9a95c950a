"""Service bootstrap (cosmicpython's `bootstrap`): every service is wired here the same way."""

from rig_kit.kit import Projection, ServiceKit

__all__ = ["Projection", "ServiceKit"]
