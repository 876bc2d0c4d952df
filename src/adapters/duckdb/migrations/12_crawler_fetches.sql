
-- AI crawler fetches, never visitor stats: one row per site, local day, crawler and page,
-- counted up as fetches arrive (from ingest or an imported access log).
CREATE TABLE crawler_fetches (
    site_id  UINTEGER NOT NULL,
    day      DATE NOT NULL,
    crawler  VARCHAR NOT NULL,
    operator VARCHAR NOT NULL,
    pathname VARCHAR NOT NULL,
    fetches  UBIGINT NOT NULL,
    PRIMARY KEY (site_id, day, crawler, pathname)
);
