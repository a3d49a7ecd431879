-- Siteward gateway schema, version 5: the tamper-evident audit log (docs/audit.md).
-- Portable subset (H2 2.x and PostgreSQL 15, docs/storage.md): VARCHAR, BIGINT, INTEGER, BOOLEAN,
-- TIMESTAMP WITH TIME ZONE; no identity columns, sequences, triggers or engine-specific types.

-- One row per record. The hash covers seq, time, type, actor, subject, details and prev_hash in the canonical
-- encoding of docs/audit.md; rows are never updated, and deleted only by AuditLog.purgeBefore (the oldest first,
-- keeping the signed checkpoint at the cut).
CREATE TABLE audit_records (
    seq          BIGINT        NOT NULL PRIMARY KEY,
    recorded_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    type         VARCHAR(64)   NOT NULL,
    actor        VARCHAR(256)  NOT NULL,
    subject      VARCHAR(1024) NOT NULL,
    details      VARCHAR(65536) NOT NULL,
    prev_hash    VARCHAR(64)   NOT NULL,
    hash         VARCHAR(64)   NOT NULL
);

CREATE INDEX audit_records_time ON audit_records (recorded_at);

-- Signed checkpoints: the hash of record seq, signed (ES256) by the gateway's audit key at signed_at. The
-- certificates (audit key certificate, then its issuing CA, PEM) let a verifier check it with the site root alone.
CREATE TABLE audit_checkpoints (
    seq          BIGINT        NOT NULL PRIMARY KEY,
    hash         VARCHAR(64)   NOT NULL,
    signed_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    key_id       VARCHAR(64)   NOT NULL,
    signature    VARCHAR(256)  NOT NULL,
    certificates VARCHAR(16384) NOT NULL
);

-- The chain's tail, one row (id = 1), locked with SELECT ... FOR UPDATE by every append: appends from any number
-- of threads or gateway processes sharing the database are serialised and never fork the chain. It is a cache
-- for the writer only; verification never trusts it.
CREATE TABLE audit_state (
    id                  INTEGER      NOT NULL PRIMARY KEY,
    last_seq            BIGINT       NOT NULL,
    last_hash           VARCHAR(64)  NOT NULL,
    checkpoint_seq      BIGINT       NOT NULL,
    checkpoint_at       TIMESTAMP WITH TIME ZONE,
    CONSTRAINT audit_state_one_row CHECK (id = 1)
);

INSERT INTO audit_state (id, last_seq, last_hash, checkpoint_seq, checkpoint_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, NULL);
