-- +goose Up
-- PostgreSQL twin of migrations/sqlite/00001_init.sql: same tables, same version.
-- Times are unix milliseconds (BIGINT) so the same SQL runs on SQLite and PostgreSQL.
CREATE TABLE users (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);

CREATE TABLE escalation_policies (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL,
    repeat_count INTEGER NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE escalation_rules (
    policy_id       BIGINT  NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    timeout_minutes INTEGER NOT NULL,
    PRIMARY KEY (policy_id, position)
);

-- A user in a rule cannot be deleted (no ON DELETE): the API answers 409.
CREATE TABLE escalation_rule_users (
    policy_id     BIGINT  NOT NULL,
    rule_position INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    PRIMARY KEY (policy_id, rule_position, position),
    FOREIGN KEY (policy_id, rule_position) REFERENCES escalation_rules (policy_id, position) ON DELETE CASCADE
);
CREATE INDEX escalation_rule_users_user ON escalation_rule_users (user_id);

CREATE TABLE alert_sources (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                      TEXT   NOT NULL,
    integration_type          TEXT   NOT NULL,
    escalation_policy_id      BIGINT NOT NULL REFERENCES escalation_policies (id),
    status                    TEXT   NOT NULL,
    key_hash                  TEXT   NOT NULL, -- keyed hash of the integration key, for lookup
    key_sealed                TEXT   NOT NULL, -- the key itself, encrypted, to show the webhook URL again
    autotask_username         TEXT   NOT NULL,
    autotask_secret_sealed    TEXT   NOT NULL,
    autotask_integration_code TEXT   NOT NULL,
    autotask_web_server       TEXT   NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE UNIQUE INDEX alert_sources_key_hash ON alert_sources (key_hash);
CREATE INDEX alert_sources_policy ON alert_sources (escalation_policy_id);

CREATE TABLE incidents (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_source_id       BIGINT NOT NULL REFERENCES alert_sources (id) ON DELETE CASCADE,
    status                TEXT   NOT NULL,
    priority              TEXT   NOT NULL,
    summary               TEXT   NOT NULL,
    details               TEXT   NOT NULL,
    ticket_id             BIGINT NOT NULL,
    ticket_number         TEXT   NOT NULL,
    ticket_status_label   TEXT   NOT NULL,
    ticket_priority_label TEXT   NOT NULL,
    links                 TEXT   NOT NULL, -- JSON array of {href, text}
    created_at            BIGINT NOT NULL,
    accepted_at           BIGINT,
    resolved_at           BIGINT,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX incidents_source ON incidents (alert_source_id, id);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_ticket ON incidents (alert_source_id, ticket_id);

-- The dedup key: at most one current incident per ticket of a source. The
-- primary key makes a second concurrent create fail instead of doubling a page.
CREATE TABLE ticket_links (
    alert_source_id BIGINT NOT NULL REFERENCES alert_sources (id) ON DELETE CASCADE,
    ticket_id       BIGINT NOT NULL,
    incident_id     BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (alert_source_id, ticket_id)
);
CREATE INDEX ticket_links_incident ON ticket_links (incident_id);

CREATE TABLE callouts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_source_id     BIGINT  NOT NULL REFERENCES alert_sources (id) ON DELETE CASCADE,
    received_at         BIGINT  NOT NULL,
    method              TEXT    NOT NULL,
    content_type        TEXT    NOT NULL,
    query               TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    body_truncated      INTEGER NOT NULL,
    ticket_id           BIGINT,
    ticket_number       TEXT,
    ticket_status_label TEXT,
    action              TEXT, -- NULL while being processed
    http_status         INTEGER,
    incident_id         BIGINT,
    error               TEXT,
    attempts            INTEGER NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX callouts_source ON callouts (alert_source_id, id);
CREATE INDEX callouts_unfinished ON callouts (action, received_at);

CREATE TABLE incident_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    text        TEXT   NOT NULL,
    callout_id  BIGINT,
    actor       TEXT
);
CREATE INDEX incident_log_incident ON incident_log (incident_id, id);

-- +goose Down
DROP TABLE incident_log;
DROP TABLE callouts;
DROP TABLE ticket_links;
DROP TABLE incidents;
DROP TABLE alert_sources;
DROP TABLE escalation_rule_users;
DROP TABLE escalation_rules;
DROP TABLE escalation_policies;
DROP TABLE api_tokens;
DROP TABLE users;
