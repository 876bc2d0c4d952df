
-- History brought in from other tools, kept apart from native events: daily totals per site ...
CREATE TABLE imported_visitors (
    site_id        UINTEGER NOT NULL,
    import_id      UINTEGER NOT NULL,
    date           DATE NOT NULL,
    visitors       BIGINT NOT NULL,
    visits         BIGINT NOT NULL,
    pageviews      BIGINT NOT NULL,
    bounces        BIGINT NOT NULL,
    -- total seconds of all visits that day (Plausible's convention)
    visit_duration BIGINT NOT NULL
);
-- ... and daily breakdowns: dimension is page, source, country, device, browser or os.
CREATE TABLE imported_breakdowns (
    site_id        UINTEGER NOT NULL,
    import_id      UINTEGER NOT NULL,
    date           DATE NOT NULL,
    dimension      VARCHAR NOT NULL,
    value          VARCHAR NOT NULL,
    visitors       BIGINT NOT NULL,
    visits         BIGINT NOT NULL,
    pageviews      BIGINT NOT NULL,
    bounces        BIGINT NOT NULL,
    visit_duration BIGINT NOT NULL
);
CREATE SEQUENCE import_ids START 1;
CREATE TABLE imports (
    id          UINTEGER PRIMARY KEY DEFAULT nextval('import_ids'),
    site_id     UINTEGER NOT NULL,
    source      VARCHAR NOT NULL,
    first_date  DATE,
    last_date   DATE,
    days        INTEGER NOT NULL,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- Email report subscriptions by address (to be tied to user accounts); last_period remembers
-- the last period sent so a restart neither skips nor repeats a report.
CREATE TABLE email_subscriptions (
    site_id     UINTEGER NOT NULL,
    email       VARCHAR NOT NULL,
    frequency   VARCHAR NOT NULL,
    last_period VARCHAR,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (site_id, email, frequency)
);
