
CREATE SEQUENCE site_ids START 1;
CREATE TABLE sites (
    id             UINTEGER PRIMARY KEY DEFAULT nextval('site_ids'),
    domain         VARCHAR NOT NULL UNIQUE,
    hostnames      VARCHAR[] NOT NULL DEFAULT [],
    timezone       VARCHAR NOT NULL DEFAULT 'UTC',
    honor_dnt      BOOLEAN NOT NULL DEFAULT true,
    honor_gpc      BOOLEAN NOT NULL DEFAULT true,
    excluded_ips   VARCHAR[] NOT NULL DEFAULT [],
    retention_days INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE salts (
    day  INTEGER PRIMARY KEY,
    salt BLOB NOT NULL
);
-- One wide row per pageview or custom event, appended in time order. No index on purpose:
-- zonemaps on ts prune scans, and ART indexes slow appends and cost memory.
CREATE TABLE events (
    ts              TIMESTAMP NOT NULL,
    site_id         UINTEGER NOT NULL,
    name            VARCHAR NOT NULL,
    visitor_id      UBIGINT NOT NULL,
    visit_id        UBIGINT NOT NULL,
    hostname        VARCHAR,
    pathname        VARCHAR NOT NULL,
    referrer        VARCHAR,
    referrer_source VARCHAR,
    channel         VARCHAR,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    utm_content     VARCHAR,
    utm_term        VARCHAR,
    country         VARCHAR,
    region          VARCHAR,
    city            VARCHAR,
    browser         VARCHAR,
    browser_version VARCHAR,
    os              VARCHAR,
    os_version      VARCHAR,
    device          VARCHAR,
    screen          VARCHAR,
    language        VARCHAR,
    props           MAP(VARCHAR, VARCHAR)
);
CREATE TABLE web_vitals (
    ts              TIMESTAMP NOT NULL,
    site_id         UINTEGER NOT NULL,
    visitor_id      UBIGINT NOT NULL,
    metric          VARCHAR NOT NULL,
    value           DOUBLE NOT NULL,
    rating          VARCHAR NOT NULL,
    pathname        VARCHAR NOT NULL,
    navigation_type VARCHAR,
    device          VARCHAR,
    country         VARCHAR
);
