
-- Accounts. Times are Unix microseconds. Secrets (sessions, tokens, share links, invites) are
-- stored as BLAKE3 digests, passwords as argon2id hashes. No unique indexes: uniqueness is
-- checked under the account store's lock, and small tables are scanned.
CREATE SEQUENCE user_ids START 1;
CREATE TABLE users (
    id            UINTEGER NOT NULL DEFAULT nextval('user_ids'),
    email         VARCHAR NOT NULL,
    name          VARCHAR NOT NULL DEFAULT '',
    password_hash VARCHAR NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT false,
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT
);
CREATE TABLE memberships (
    user_id UINTEGER NOT NULL,
    site_id UINTEGER NOT NULL,
    role    VARCHAR NOT NULL
);
CREATE TABLE sessions (
    digest     BLOB NOT NULL,
    user_id    UINTEGER,
    share_id   UINTEGER,
    expires_at BIGINT NOT NULL
);
CREATE SEQUENCE token_ids START 1;
CREATE TABLE api_tokens (
    id           UINTEGER NOT NULL DEFAULT nextval('token_ids'),
    digest       BLOB NOT NULL,
    user_id      UINTEGER NOT NULL,
    name         VARCHAR NOT NULL,
    scope        VARCHAR NOT NULL,
    site_ids     VARCHAR NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE SEQUENCE share_ids START 1;
CREATE TABLE share_links (
    id            UINTEGER NOT NULL DEFAULT nextval('share_ids'),
    digest        BLOB NOT NULL,
    site_id       UINTEGER NOT NULL,
    name          VARCHAR NOT NULL DEFAULT '',
    password_hash VARCHAR,
    created_at    BIGINT NOT NULL
);
CREATE TABLE invites (
    digest     BLOB NOT NULL,
    email      VARCHAR NOT NULL,
    is_admin   BOOLEAN NOT NULL,
    site_id    UINTEGER,
    role       VARCHAR,
    created_by UINTEGER,
    expires_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    happened_at BIGINT NOT NULL,
    actor  VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    ip     VARCHAR NOT NULL
);
