"""The router service: approved issues to the right agent pool and around the review loop (DESIGN.md 1, 3-6, 9)."""
