
-- Outbound webhooks of a site. events: comma-separated (goal.converted, report.daily, ...);
-- goal_cursor: goal conversions up to this instant (us) were batched already.
CREATE SEQUENCE webhook_ids START 1;
CREATE TABLE webhooks (
    id          UINTEGER NOT NULL DEFAULT nextval('webhook_ids'),
    site_id     UINTEGER NOT NULL,
    url         VARCHAR NOT NULL,
    events      VARCHAR NOT NULL,
    format      VARCHAR NOT NULL,
    secret      VARCHAR NOT NULL,
    goal_cursor BIGINT NOT NULL,
    last_daily  VARCHAR,
    last_weekly VARCHAR,
    created_at  BIGINT NOT NULL
);
-- The durable outbox and delivery log: one row per message, its last attempt's outcome.
-- data is the event's JSON; bodies are rendered and signed at each attempt.
CREATE SEQUENCE webhook_delivery_ids START 1;
CREATE TABLE webhook_deliveries (
    id              UBIGINT NOT NULL DEFAULT nextval('webhook_delivery_ids'),
    webhook_id      UINTEGER NOT NULL,
    site_id         UINTEGER NOT NULL,
    event           VARCHAR NOT NULL,
    data            VARCHAR NOT NULL,
    state           VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         BIGINT,
    last_status     INTEGER,
    last_error      VARCHAR,
    created_at      BIGINT NOT NULL,
    last_attempt_at BIGINT
);
