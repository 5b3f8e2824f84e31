-- 0007: Salesforce activities (Tasks, Events) written to Jira as comments or worklogs, so each
-- is written once and rewritten only when it changes. jira_item_id is NULL while the create is
-- in flight (the intent), so a retry looks for what an earlier attempt wrote before creating.
CREATE TABLE activity_links (
    sf_activity_id  text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('comment', 'worklog')),
    origin_key      text        NOT NULL,
    jira_issue_id   text        NOT NULL,
    jira_item_id    text,
    content_hash    text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sf_activity_id, kind)
);
CREATE INDEX activity_links_origin ON activity_links (origin_key);
