
-- The language a user chose in the dashboard (en, de, fr, es, it, nl, pt-BR); e-mail reports to
-- their address are written in it. NULL: never chosen (reports in English).
ALTER TABLE users ADD COLUMN language VARCHAR;
