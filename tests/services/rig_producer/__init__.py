"""A test-only producer service: writes events to its outbox on request; its relay publishes them."""
