"""`conductor-e-hook`: a person's AI coding sessions reported into rig-conductor, never in the way of the tool."""

__version__ = "0.1.0"
