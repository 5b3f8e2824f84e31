-- 0004: the API budget every worker shares. Each worker publishes what its latest Salesforce
-- (Sforce-Limit-Info) and Jira (X-RateLimit-*, Retry-After) answers said; the budget guard reads
-- the newest, so backfill and reconcile slow down and pause on every worker at once.
CREATE TABLE api_budget (
    system          text PRIMARY KEY CHECK (system IN ('salesforce', 'jira')),
    remaining       integer     NOT NULL,
    lim             integer     NOT NULL,
    throttled_until timestamptz,
    observed_at     timestamptz NOT NULL,
    observed_by     text        NOT NULL
);

-- The exact before-image of a written field as the target's API returned it (JSON), when it was
-- read: compensation and operator rollback write it back as is (before_value is its canonical text).
ALTER TABLE audit ADD COLUMN before_raw jsonb;
