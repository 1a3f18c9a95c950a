"""Settings of the event store."""

from __future__ import annotations

from pydantic import Field

from rig_service.settings import CommonSettings


class EventStoreSettings(CommonSettings):
    """The event store's settings (`RIG_…`)."""

    trim_every_s: float = Field(default=60.0, gt=0, description="How often `rig:events` is trimmed below the "
                                "slowest consumer group, once the store holds what is trimmed.")
    replay_catch_up_s: float = Field(default=30.0, gt=0, description="How long a replay waits for the store to "
                                     "hold everything the rebuilding service had already read.")
