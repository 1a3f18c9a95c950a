"""The router service: approved issues to the right agent pool and around the review loop (docs/design.md 1, 3-6, 9)."""
