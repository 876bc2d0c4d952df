
-- Time on page without a window over each visit: a pageview stores the visit's previous
-- pageview's page and the milliseconds since it (the time that page was viewed). Pageviews
-- always have a gap (0 on a visit's first); NULL marks rows stored before this migration.
ALTER TABLE events ADD COLUMN prev_page VARCHAR;
ALTER TABLE events ADD COLUMN page_gap_ms UINTEGER;
