
-- Dated notes on a site's charts; author is who wrote it (an e-mail, a token name, `cli`).
CREATE SEQUENCE annotation_ids START 1;
CREATE TABLE annotations (
    id         UINTEGER PRIMARY KEY DEFAULT nextval('annotation_ids'),
    site_id    UINTEGER NOT NULL,
    day        DATE NOT NULL,
    note       VARCHAR NOT NULL,
    author     VARCHAR NOT NULL,
    created_at BIGINT NOT NULL
);
