
CREATE SEQUENCE goal_ids START 1;
CREATE TABLE goals (
    id           UINTEGER PRIMARY KEY DEFAULT nextval('goal_ids'),
    site_id      UINTEGER NOT NULL,
    display_name VARCHAR NOT NULL,
    page_path    VARCHAR,
    event_name   VARCHAR,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE SEQUENCE funnel_ids START 1;
CREATE TABLE funnels (
    id         UINTEGER PRIMARY KEY DEFAULT nextval('funnel_ids'),
    site_id    UINTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    -- JSON list of {"page": pattern} / {"event": name}
    steps      VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
