-- 0001: links, pair state, append-only audit, dead letters.

-- One row per linked record pair. origin_key is the system and id of the record that existed first
-- (sf/006… or jira/10042); it is also the Temporal workflow id suffix (sync/<origin_key>).
CREATE TABLE links (
    origin_key      text PRIMARY KEY,
    pair            text        NOT NULL,
    sf_object       text        NOT NULL,
    sf_id           text,
    jira_issue_id   text,
    jira_issue_key  text,
    -- creating: the intent to create the Jira issue is recorded but the issue id is not yet known;
    -- linked: both sides exist and carry the back-links.
    state           text        NOT NULL DEFAULT 'creating' CHECK (state IN ('creating', 'linked')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX links_pair_sf_id ON links (pair, sf_id) WHERE sf_id IS NOT NULL;
CREATE UNIQUE INDEX links_jira_issue_id ON links (jira_issue_id) WHERE jira_issue_id IS NOT NULL;

-- The last-synced snapshot of both sides of a pair, as canonical mapped projections. The three-way
-- merge and echo suppression compare incoming changes against these.
CREATE TABLE pair_state (
    origin_key       text PRIMARY KEY REFERENCES links (origin_key),
    pair             text        NOT NULL,
    mapping_version  text        NOT NULL,
    sf_snapshot      jsonb       NOT NULL,
    jira_snapshot    jsonb       NOT NULL,
    sf_hash          text        NOT NULL,
    jira_hash        text        NOT NULL,
    sf_modstamp      timestamptz,
    jira_updated     timestamptz,
    synced_at        timestamptz NOT NULL,
    workflow_id      text        NOT NULL,
    run_id           text        NOT NULL
);

-- Append-only audit trail: one row per field written, with the target's before-image, so a run, a
-- record or a time window can be rolled back. A retried activity writes the same rows again, which
-- the unique key turns into no-ops.
CREATE TABLE audit (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    actor            text        NOT NULL,
    workflow_id      text        NOT NULL,
    run_id           text        NOT NULL,
    pass             integer     NOT NULL,
    origin_key       text        NOT NULL,
    pair             text        NOT NULL,
    direction        text        NOT NULL,
    target_system    text        NOT NULL CHECK (target_system IN ('salesforce', 'jira')),
    target_id        text        NOT NULL,
    action           text        NOT NULL,
    field            text        NOT NULL,
    before_value     text,
    after_value      text,
    mapping_version  text        NOT NULL,
    UNIQUE (run_id, pass, target_system, target_id, action, field)
);
CREATE INDEX audit_origin_key ON audit (origin_key, at);
CREATE INDEX audit_at ON audit (at);

CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- Syncs that failed for good: the catalog code, what to do, and what is needed to replay them.
CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    origin_key      text        NOT NULL,
    pair            text        NOT NULL,
    workflow_id     text        NOT NULL,
    run_id          text        NOT NULL,
    code            text        NOT NULL,
    message         text        NOT NULL,
    remediation     text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 1,
    replay_input    jsonb       NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz
);
CREATE UNIQUE INDEX dead_letters_open ON dead_letters (origin_key) WHERE resolved_at IS NULL;
