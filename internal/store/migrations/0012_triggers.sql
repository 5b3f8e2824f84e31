-- 0012: mapping triggers. trigger_state holds, per pair and trigger, whether the trigger's
-- condition held at the last sync, so a trigger fires on the change (false → true) only; a
-- fired trigger's state turns true once its actions are done, so a failed action fires again.
-- trigger_items records what each trigger created (a version, story-N), the intent first
-- (jira_id NULL), so a retry looks for what an earlier attempt created before creating it.
CREATE TABLE trigger_state (
    origin_key    text        NOT NULL,
    trigger_name  text        NOT NULL,
    holds         boolean     NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin_key, trigger_name)
);
CREATE TABLE trigger_items (
    origin_key    text        NOT NULL,
    trigger_name  text        NOT NULL,
    item          text        NOT NULL,
    jira_id       text,
    jira_key      text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin_key, trigger_name, item)
);
