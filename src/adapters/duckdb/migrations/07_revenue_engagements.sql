
-- Revenue an event carried (Plausible's Events API `revenue`), exact: amount and ISO 4217 code.
ALTER TABLE events ADD COLUMN revenue_amount DECIMAL(18,3);
ALTER TABLE events ADD COLUMN revenue_currency VARCHAR;
-- Engagement reports (Plausible's `engagement` events, hk.js on hide/leave/SPA navigation): one
-- row per report for the page view of (site, visit, pathname) before ts. Not events: they never
-- count as events, goals or the second event of a bounce. A page view's scroll depth is the
-- max of its reports' scroll_depth, its engaged time the sum of engaged_ms.
CREATE TABLE engagements (
    ts           TIMESTAMP NOT NULL,
    site_id      UINTEGER NOT NULL,
    visitor_id   UBIGINT NOT NULL,
    -- 0 when no visit was open (a report after the visit timed out)
    visit_id     UBIGINT NOT NULL,
    hostname     VARCHAR,
    pathname     VARCHAR NOT NULL,
    scroll_depth UTINYINT,
    engaged_ms   UINTEGER NOT NULL
);
