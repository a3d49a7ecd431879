-- Siteward gateway schema, version 1: devices and enrollment tokens.
-- The same migrations run on H2 (embedded default) and PostgreSQL.

CREATE TABLE devices (
    id             VARCHAR(63)  NOT NULL PRIMARY KEY,
    status         VARCHAR(16)  NOT NULL,
    labels         VARCHAR(4000) NOT NULL,
    registered     BOOLEAN      NOT NULL,
    idevid_issuer  VARCHAR(1024),
    idevid_serial  VARCHAR(64),
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    enrolled_at    TIMESTAMP WITH TIME ZONE,
    last_seen_at   TIMESTAMP WITH TIME ZONE,
    CONSTRAINT devices_status CHECK (status IN ('registered', 'active', 'suspended', 'revoked'))
);

-- Certificates are not copied here: the CA's issued-certificate registry is the one record of every certificate
-- (and of its revocation); a device's certificates are those the registry holds under its id.

CREATE TABLE enrollment_tokens (
    jti            VARCHAR(64)  NOT NULL PRIMARY KEY,
    device_id      VARCHAR(63)  NOT NULL,
    labels         VARCHAR(4000) NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    consumed_at    TIMESTAMP WITH TIME ZONE,
    consumed_spki  VARCHAR(64),
    serial         VARCHAR(40)
);
