-- Closed days of each site summed up (issue #17, 100 M events): one row per site and local day
-- (`tz`: the site's time zone when rolled), written by the background job that folds visits,
-- never by the writer. The KPIs of a period with no filter and no breakdown add up these rows
-- for its whole days, a daily chart reads one a day; events are scanned only for the rest (see
-- `day_totals.rs`). Visitors of several days are the days' visitors minus those
-- seen on the day before too (`shared_prev`); a day with visitors seen in the week before but
-- not the day before (`gaps`) is never added up with its neighbours. The writer deletes the rows
-- of the days an event stored late may fall on and the week after; the job rolls them again.
CREATE TABLE day_totals (
    site_id      UINTEGER NOT NULL,
    day          BIGINT NOT NULL,
    tz           VARCHAR NOT NULL,
    visitors     BIGINT NOT NULL,
    pageviews    BIGINT NOT NULL,
    events       BIGINT NOT NULL,
    visits       BIGINT NOT NULL,
    bounces      BIGINT NOT NULL,
    duration_sum BIGINT NOT NULL,
    shared_prev  BIGINT NOT NULL,
    gaps         BIGINT NOT NULL,
    PRIMARY KEY (site_id, day)
);
