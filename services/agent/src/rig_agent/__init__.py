"""The agent runtime (docs/design.md §1, 3, 4): one program, run as `dev-e-{stack}`, `review-e` or `ibuild-e`."""
