
-- Passkeys (WebAuthn credentials), several per account; `credential` is the public key and
-- counters as the WebAuthn adapter serialised them (no secret: only the authenticator has one).
CREATE SEQUENCE passkey_ids START 1;
CREATE TABLE passkeys (
    id            UINTEGER NOT NULL DEFAULT nextval('passkey_ids'),
    user_id       UINTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    credential_id BLOB NOT NULL,
    credential    VARCHAR NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
