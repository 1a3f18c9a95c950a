"""The supervisor behind `make run`, and the harness the cross-service tests start the system with."""
