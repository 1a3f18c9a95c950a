-- Budgets found spent, so BUDGET_EXCEEDED is written once each. Our own decisions: a rebuild keeps them (as the
-- merger keeps done_items), so replaying the runs does not announce a spent budget again.
CREATE TABLE budget_alerts (
    scope     text NOT NULL,              -- issue | repo_day
    target    text NOT NULL,              -- the work item owner/name#N, or owner/name@YYYY-MM-DD
    limit_usd numeric NOT NULL,
    spent_usd numeric NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, target)
);
