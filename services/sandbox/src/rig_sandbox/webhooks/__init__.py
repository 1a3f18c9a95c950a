"""The sandbox's webhooks: signed deliveries as GitHub sends them, their record, chaos, and the deliveries API."""

from rig_sandbox.webhooks.api import deliveries_router
from rig_sandbox.webhooks.chaos import ChaosDecision
from rig_sandbox.webhooks.dispatcher import Dispatcher
from rig_sandbox.webhooks.settings import WebhookSettings
from rig_sandbox.webhooks.store import Delivery

__all__ = ["ChaosDecision", "Delivery", "Dispatcher", "WebhookSettings", "deliveries_router"]
