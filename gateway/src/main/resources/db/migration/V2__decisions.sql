-- Siteward gateway schema, version 2: the decision log of POST /v1/actions/{action}.
-- Every decision, allow or deny, live or dry run, with the full request so that 'siteward policy diff --days N' can
-- replay it against a proposed bundle. The same SQL runs on H2 and PostgreSQL 15.

CREATE TABLE policy_decisions (
    id                     VARCHAR(36)   NOT NULL PRIMARY KEY,
    decided_at             TIMESTAMP WITH TIME ZONE NOT NULL,
    subject_kind           VARCHAR(16)   NOT NULL,
    subject_id             VARCHAR(255)  NOT NULL,
    subject_roles          VARCHAR(2000) NOT NULL,
    subject_labels         VARCHAR(4000) NOT NULL,
    certificate_not_before TIMESTAMP WITH TIME ZONE,
    action                 VARCHAR(255)  NOT NULL,
    resource_id            VARCHAR(255)  NOT NULL,
    resource_zone          VARCHAR(255),
    resource_labels        VARCHAR(4000) NOT NULL,
    site_mode              VARCHAR(32)   NOT NULL,
    bundle_version         BIGINT,
    bundle_digest          VARCHAR(71),
    rule_ids               VARCHAR(4000) NOT NULL,
    effect                 VARCHAR(5)    NOT NULL,
    reason                 VARCHAR(4000) NOT NULL,
    dry_run                BOOLEAN       NOT NULL,
    requested_by           VARCHAR(255)  NOT NULL,
    grant_id               VARCHAR(64),
    CONSTRAINT policy_decisions_effect CHECK (effect IN ('allow', 'deny'))
);

CREATE INDEX policy_decisions_decided_at ON policy_decisions (decided_at);
CREATE INDEX policy_decisions_subject ON policy_decisions (subject_id, decided_at);
