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
