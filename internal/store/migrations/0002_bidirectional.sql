-- 0002: two-way sync: change-capture watermarks, conflicts awaiting a decision, mirrored
-- comments, deleted links, and change→reflection latency in the audit.

ALTER TABLE links DROP CONSTRAINT links_state_check;
ALTER TABLE links ADD CONSTRAINT links_state_check CHECK (state IN ('creating', 'linked', 'deleted'));
ALTER TABLE links ALTER COLUMN sf_object DROP NOT NULL;

ALTER TABLE audit ADD COLUMN latency_ms bigint;
ALTER TABLE audit ADD COLUMN decided_by text;

-- Where each change-capture source has read up to. ids_at_watermark holds the records already
-- handed over that carry exactly the watermark timestamp, so identical timestamps are neither
-- missed nor processed twice across restarts.
CREATE TABLE watermarks (
    source            text PRIMARY KEY,
    watermark         timestamptz NOT NULL,
    ids_at_watermark  text[]      NOT NULL DEFAULT '{}',
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Fields changed on both sides since the last sync whose policy is manual. They are never
-- overwritten until an operator picks a side.
CREATE TABLE conflicts (
    id            bigserial PRIMARY KEY,
    origin_key    text        NOT NULL,
    pair          text        NOT NULL,
    field         text        NOT NULL,
    label         text        NOT NULL,
    sf_value      text,
    jira_value    text,
    base_sf       text,
    base_jira     text,
    detected_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    resolution    text CHECK (resolution IN ('sf', 'jira')),
    resolved_by   text,
    applied_at    timestamptz
);
CREATE UNIQUE INDEX conflicts_open ON conflicts (origin_key, field) WHERE applied_at IS NULL;

-- Jira comments mirrored as Chatter feed items, so each is posted once.
CREATE TABLE comment_links (
    jira_comment_id  text PRIMARY KEY,
    origin_key       text        NOT NULL,
    feed_item_id     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
