-- 0005: security: OAuth tokens encrypted at rest, webhook delivery ids for replay protection, and
-- the application role that cannot change the audit trail.

-- One row per stored credential (e.g. 'jira' for the 3LO grant). The token set is sealed with
-- AES-256-GCM by the keyring key named in key_id; the row name is bound into the ciphertext, so a
-- ciphertext copied to another row does not decrypt. Refreshes take this row's lock
-- (SELECT … FOR UPDATE), so two workers never both spend one rotating refresh token.
CREATE TABLE oauth_tokens (
    name        text PRIMARY KEY,
    key_id      text        NOT NULL,
    ciphertext  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    refreshes   bigint      NOT NULL DEFAULT 0
);

-- Delivery ids of accepted webhooks / Outbound Message notifications, kept for the replay window,
-- so a replayed (or re-sent) delivery is acknowledged without being processed twice.
CREATE TABLE webhook_deliveries (
    source       text        NOT NULL,
    delivery_id  text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, delivery_id)
);
CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at);

-- sfjira_app is the role the worker and CLI should run as (log in as a role that is a member of it,
-- e.g. CREATE ROLE sfjira_worker LOGIN PASSWORD '…' IN ROLE sfjira_app). It may read and write
-- connector state but only INSERT into and SELECT from the audit trail: no UPDATE, DELETE or
-- TRUNCATE, so even a compromised worker cannot rewrite history. Roles are cluster-wide, so the
-- role may already exist (another database on the same server, or a concurrent migration).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sfjira_app') THEN
        CREATE ROLE sfjira_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO sfjira_app', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO sfjira_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sfjira_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO sfjira_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM sfjira_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM sfjira_app;
-- Tables later migrations create get the same grants (the audit stays the exception above).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sfjira_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO sfjira_app;
