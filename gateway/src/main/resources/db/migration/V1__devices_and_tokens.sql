-- Siteward gateway schema, version 1: devices, their certificates, enrollment tokens.
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

CREATE TABLE device_certificates (
    serial       VARCHAR(40)  NOT NULL PRIMARY KEY,
    device_id    VARCHAR(63)  NOT NULL REFERENCES devices (id),
    spki_sha256  VARCHAR(64)  NOT NULL,
    not_before   TIMESTAMP WITH TIME ZONE NOT NULL,
    not_after    TIMESTAMP WITH TIME ZONE NOT NULL,
    revoked_at   TIMESTAMP WITH TIME ZONE,
    pem          VARCHAR(8000) NOT NULL
);
CREATE INDEX device_certificates_device ON device_certificates (device_id);

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
