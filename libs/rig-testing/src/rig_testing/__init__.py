"""Test support for rig-conductor: real servers, never stand-ins."""
