-- 0006: maintenance windows. One row: while paused, pollers, schedules and new sync passes wait;
-- change notifications are still accepted and handed to the pairs' workflows, which process them
-- after `sfjira resume`.
CREATE TABLE maintenance (
    id              integer     PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    paused          boolean     NOT NULL DEFAULT false,
    reason          text        NOT NULL DEFAULT '',
    changed_by      text        NOT NULL DEFAULT '',
    changed_at      timestamptz NOT NULL DEFAULT now(),
    -- how often held workflows look again whether the window has ended
    recheck_seconds integer     NOT NULL DEFAULT 15 CHECK (recheck_seconds > 0)
);
INSERT INTO maintenance (id) VALUES (1);
