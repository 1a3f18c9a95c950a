"""What every rig-conductor service shares: settings, health and metrics routes, fault points."""
