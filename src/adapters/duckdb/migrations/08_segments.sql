
-- Saved segments: named filter sets (Stats API v2 filters as JSON) of a site. owner_id is the
-- user who saved it; a personal segment is seen by its owner only.
CREATE SEQUENCE segment_ids START 1;
CREATE TABLE segments (
    id         UINTEGER NOT NULL DEFAULT nextval('segment_ids'),
    site_id    UINTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    personal   BOOLEAN NOT NULL,
    owner_id   UINTEGER,
    filters    VARCHAR NOT NULL,
    labels     VARCHAR NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- A share link may be limited to a (site-wide) segment.
ALTER TABLE share_links ADD COLUMN segment_id UINTEGER;
-- A revenue goal's currency (ISO 4217): its conversions' revenue is counted in it.
ALTER TABLE goals ADD COLUMN currency VARCHAR;
