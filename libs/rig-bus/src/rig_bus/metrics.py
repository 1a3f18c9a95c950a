"""Prometheus metrics of the bus."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PUBLISHED = Counter("rig_bus_published_total", "Entries appended to a stream", ["stream"])
DUPLICATES = Counter("rig_bus_publish_duplicates_total", "Publishes skipped because the id was already appended",
                     ["stream"])
HANDLED = Counter("rig_bus_handled_total", "Entries handled and acknowledged", ["stream", "group"])
FAILED = Counter("rig_bus_handler_failures_total", "Entries whose handler raised", ["stream", "group"])
RECLAIMED = Counter("rig_bus_reclaimed_total", "Idle pending entries claimed from another consumer",
                    ["stream", "group"])
DEAD = Counter("rig_bus_dead_lettered_total", "Entries moved to the dead-letter stream", ["stream", "group"])
TRIMMED = Counter("rig_bus_trimmed_total", "Entries trimmed below the slowest group", ["stream"])
BATCH_SECONDS = Histogram("rig_bus_batch_seconds", "Time to handle one batch", ["stream", "group"])
