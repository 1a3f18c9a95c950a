"""Real git behind the sandbox: bare repositories driven by git plumbing, and the smart HTTP protocol."""
