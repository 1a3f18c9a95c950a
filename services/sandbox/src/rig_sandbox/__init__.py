"""rig-sandbox: a GitHub stand-in."""
