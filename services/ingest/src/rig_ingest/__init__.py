"""The ingest service: GitHub webhooks (and, later, agents' and people's calls) in, as events, durably."""
