-- Closed visits, one row each (issue #17, exit pages): folded from `events` by a background job,
-- never by the writer (a writer-kept visits table cost the seed a third of its speed). A visit
-- is folded once every event of it is older than the newest stored event by the visit timeout
-- and a margin; `fold_marks` holds the highest visit id up to which every visit is folded, in
-- the same transaction as the rows. Reports answer from these rows for the visits wholly inside
-- their period and group the raw events of the others (see `report_sql`).
CREATE TABLE visit_ends (
    site_id    UINTEGER NOT NULL,
    visit_id   UBIGINT NOT NULL,
    visitor_id UBIGINT NOT NULL,
    vstart     TIMESTAMP NOT NULL,
    vend       TIMESTAMP NOT NULL,
    -- Pageviews and other events of the visit.
    pv         UINTEGER NOT NULL,
    ce         UINTEGER NOT NULL,
    -- The last pageview's path (NULL: a visit of custom events only).
    exit_page  VARCHAR
);
CREATE TABLE fold_marks (
    name    VARCHAR PRIMARY KEY,
    through UBIGINT NOT NULL
);
