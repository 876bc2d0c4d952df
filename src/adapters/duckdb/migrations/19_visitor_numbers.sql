-- Visitor numbers (issue #17, storage): events store a small number per visitor, counting up,
-- instead of the 48-bit salted visitor hash (random: 6 incompressible bytes a row; numbers
-- given in order of arrival bit-pack into about 2). This table remembers for two days which
-- hash got which number, so a restart goes on with the same numbers; older rows are deleted
-- (a hash is made with one day's salt and never recurs). Rows stored before keep their hash
-- ids: all are below 2^48, where numbering starts, so old data answers exactly as before.
CREATE TABLE visitor_numbers (
    key    UBIGINT NOT NULL,
    number UBIGINT NOT NULL,
    since  TIMESTAMP NOT NULL
);
