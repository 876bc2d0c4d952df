
-- Visit attributes and running visit statistics on every event (see domain::event::VisitStats):
-- the dashboard's visit metrics become sums instead of a GROUP BY over visits.
ALTER TABLE events ADD COLUMN entry_page VARCHAR;
ALTER TABLE events ADD COLUMN visit_start BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN bounce_delta TINYINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN duration_delta UINTEGER NOT NULL DEFAULT 0;
