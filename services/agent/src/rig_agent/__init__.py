"""The agent runtime (DESIGN.md sections 1, 3, 4): one program, run as `dev-e-{stack}`, `review-e` or `ibuild-e`."""
