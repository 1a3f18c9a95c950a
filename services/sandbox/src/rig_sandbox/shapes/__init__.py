"""GitHub's JSON shapes, rendered from the sandbox's records: pure functions of records, git facts and URLs."""
