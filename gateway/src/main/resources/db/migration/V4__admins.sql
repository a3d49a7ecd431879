-- Siteward gateway schema, version 4: the people and automation that operate the gateway.
-- An admin's certificates live in the CA's registry (with the role bound at issuance); this table names the admin,
-- the role they hold, and their current certificate, so admins can be listed, renewed and revoked by name.

CREATE TABLE admins (
    name           VARCHAR(63)  NOT NULL PRIMARY KEY,
    role           VARCHAR(32)  NOT NULL,
    status         VARCHAR(16)  NOT NULL,
    serial         VARCHAR(40)  NOT NULL,
    not_after      TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    created_by     VARCHAR(63)  NOT NULL,
    renewed_at     TIMESTAMP WITH TIME ZONE,
    revoked_at     TIMESTAMP WITH TIME ZONE,
    CONSTRAINT admins_status CHECK (status IN ('active', 'revoked')),
    CONSTRAINT admins_role CHECK (role IN ('bootstrap', 'operator', 'security', 'publisher-admin', 'auditor'))
);
