-- Repositories whose daily budget is spent (BUDGET_EXCEEDED, scope repo_day): no new assignments that day (UTC).
CREATE TABLE repo_budgets (
    repo      text NOT NULL,
    day       date NOT NULL,
    limit_usd double precision NOT NULL,
    spent_usd double precision NOT NULL,
    PRIMARY KEY (repo, day)
);
