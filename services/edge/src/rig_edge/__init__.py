"""The edge: routes every public path to the service that owns it (topology.toml), streaming both ways."""
