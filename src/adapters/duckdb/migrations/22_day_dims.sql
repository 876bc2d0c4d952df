-- Closed days of each site summed per dimension value (issue #17, 100 M events): the rows of a
-- `day_totals` day for the dashboard's breakdowns (`dim`: page, entry_page, source, country,
-- browser, os, device; `value` as the breakdown labels it), rolled and deleted with that day's
-- `day_totals` row (see `day_dims.rs`). `shared_prev` and `gaps` as in `day_totals`, per value.
CREATE TABLE day_dims (
    site_id      UINTEGER NOT NULL,
    day          BIGINT NOT NULL,
    tz           VARCHAR NOT NULL,
    dim          VARCHAR NOT NULL,
    value        VARCHAR,
    visitors     BIGINT NOT NULL,
    pageviews    BIGINT NOT NULL,
    events       BIGINT NOT NULL,
    visits       BIGINT NOT NULL,
    bounces      BIGINT NOT NULL,
    duration_sum BIGINT NOT NULL,
    shared_prev  BIGINT NOT NULL,
    gaps         BIGINT NOT NULL
);
-- Days rolled before this table existed have no rows in it: the job rolls them again.
DELETE FROM day_totals;
