
-- Two-factor sign-in. A TOTP secret is stored sealed (XChaCha20-Poly1305 under the server's
-- key), never in clear; last_step is the newest 30-second step whose code was accepted (a code
-- is good once). Recovery codes are kept as digests.
CREATE TABLE totp_authenticators (
    user_id    UINTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    confirmed  BOOLEAN NOT NULL DEFAULT false,
    last_step  BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE recovery_codes (
    user_id UINTEGER NOT NULL,
    digest  BLOB NOT NULL,
    used_at BIGINT
);
-- Instance-wide settings changed at run time by instance administrators.
CREATE TABLE instance_policy (
    name  VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
