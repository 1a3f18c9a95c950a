"""The event bus: idempotent publishing, consumer groups with reclaim and dead letters, safe trimming.

Services use the names exported here; the Redis (FastStream) backend stays behind them so another
backend (NATS JetStream) can be added without touching a service.
"""

from rig_bus.backend import Bus, Publishes, connect
from rig_bus.messages import Delivery, Outgoing
from rig_bus.publish import Publisher

__all__ = ["Bus", "Delivery", "Outgoing", "Publisher", "Publishes", "connect"]
