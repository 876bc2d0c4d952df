
-- Traffic alert thresholds of a site (no row: the defaults) and the alerts raised.
CREATE TABLE alert_settings (
    site_id       UINTEGER NOT NULL,
    enabled       BOOLEAN NOT NULL,
    spike_factor  DOUBLE NOT NULL,
    drop_factor   DOUBLE NOT NULL,
    min_pageviews UBIGINT NOT NULL,
    weeks         INTEGER NOT NULL,
    emails        VARCHAR[] NOT NULL
);
CREATE TABLE alerts (
    site_id   UINTEGER NOT NULL,
    kind      VARCHAR NOT NULL,
    from_us   BIGINT NOT NULL,
    to_us     BIGINT NOT NULL,
    pageviews UBIGINT NOT NULL,
    typical   DOUBLE NOT NULL,
    raised_at BIGINT NOT NULL
);
