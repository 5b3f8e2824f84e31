-- 0003: reconciliation reports. One row per Reconcile run and pair: what the scan found (counts by
-- drift kind and the first examples), what it repaired, and the watermark it used, so operators
-- read the report with `sfjira reconcile report` and the next run scans Jira incrementally.
CREATE TABLE reconcile_runs (
    id            bigserial PRIMARY KEY,
    pair          text        NOT NULL,
    workflow_id   text        NOT NULL,
    run_id        text        NOT NULL,
    dry_run       boolean     NOT NULL,
    full_scan     boolean     NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    -- Jira issues updated since this time were read in full; null = every issue was.
    since         timestamptz,
    report        jsonb       NOT NULL,
    UNIQUE (run_id, pair)
);
CREATE INDEX reconcile_runs_pair ON reconcile_runs (pair, started_at DESC);
