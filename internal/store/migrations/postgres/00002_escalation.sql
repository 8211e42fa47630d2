-- +goose Up
-- PostgreSQL twin of migrations/sqlite/00002_escalation.sql.
ALTER TABLE users ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN webhook_secret_sealed TEXT NOT NULL DEFAULT '';

-- escalation_step: how many escalation steps have run (step s notifies rule
-- s mod len(rules) in round s div len(rules)); next_escalation_at: when the
-- next step is due while the incident is pending.
ALTER TABLE incidents ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN escalation_rule INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN next_escalation_at BIGINT;

-- One row per user, channel and incident event. Throttling bundles the
-- PENDING rows of a user and channel into one message (one delivery id).
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT  NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel     TEXT    NOT NULL, -- EMAIL, WEBHOOK
    event       TEXT    NOT NULL, -- incident.created, incident.escalated, incident.accepted, incident.resolved
    rule        INTEGER NOT NULL, -- 1-based rule that paged the user; 0 for accepted/resolved
    actor       TEXT    NOT NULL,
    status      TEXT    NOT NULL, -- PENDING, SENDING, SENT, SKIPPED, FAILED
    delivery    TEXT,             -- id of the message that carried it
    attempts    INTEGER NOT NULL,
    error       TEXT,
    created_at  BIGINT  NOT NULL,
    claimed_at  BIGINT,
    sent_at     BIGINT
);
CREATE INDEX notifications_queue ON notifications (user_id, channel, status);
CREATE INDEX notifications_incident ON notifications (incident_id);

-- When a user was last sent a message on a channel (the throttle window).
CREATE TABLE notify_throttle (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel      TEXT   NOT NULL,
    last_sent_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel)
);

-- Accept/resolve links are single-use: a used link's nonce is kept here.
CREATE TABLE used_action_tokens (
    nonce   TEXT   NOT NULL PRIMARY KEY,
    used_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE used_action_tokens;
DROP TABLE notify_throttle;
DROP TABLE notifications;
ALTER TABLE incidents DROP COLUMN next_escalation_at;
ALTER TABLE incidents DROP COLUMN escalation_rule;
ALTER TABLE incidents DROP COLUMN escalation_step;
ALTER TABLE users DROP COLUMN webhook_secret_sealed;
ALTER TABLE users DROP COLUMN webhook_url;
