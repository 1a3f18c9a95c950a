"""PostgreSQL for every service: pool, per-service schema and migrations, transactional outbox and relay, inbox."""
