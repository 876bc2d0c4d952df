
-- Single sign-on: the OpenID Connect identity (issuer + subject) each account signs in with.
CREATE TABLE external_identities (
    issuer     VARCHAR NOT NULL,
    subject    VARCHAR NOT NULL,
    user_id    UINTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
