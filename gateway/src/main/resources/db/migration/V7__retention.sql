-- Siteward gateway schema, version 7: stored device data under retention rules (docs/retention.md).
-- Portable subset (H2 2.x and PostgreSQL 15, docs/storage.md).

-- One row per record a device sent through POST /v1/data/{class}: its class, device, the gateway's time of receipt
-- (which retention ages from), its size and body (minimised JSON, or a blob's raw bytes). Fields a retention rule
-- drops or hashes never reach this table.
CREATE TABLE data_records (
    id           VARCHAR(32)   NOT NULL PRIMARY KEY,
    data_class   VARCHAR(32)   NOT NULL,
    device       VARCHAR(256)  NOT NULL,
    recorded_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    size_bytes   BIGINT        NOT NULL,
    content_type VARCHAR(128)  NOT NULL,
    body         BYTEA         NOT NULL
);

-- Purges walk a class oldest first: (class, time, id) is also the keyset cursor of a purge and an export.
CREATE INDEX data_records_class_time ON data_records (data_class, recorded_at, id);

-- One row per purge run and class. Every batch deletes its records and updates this row in the same transaction,
-- so the row always says exactly what was deleted; a run cut off (kill -9) is finished by the next one, and the
-- deletion receipt goes to the audit log before finished_at is set.
CREATE TABLE retention_purges (
    run_id       VARCHAR(32)   NOT NULL,
    data_class   VARCHAR(32)   NOT NULL,
    started_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    deleted      BIGINT        NOT NULL,
    bytes        BIGINT        NOT NULL,
    oldest       TIMESTAMP WITH TIME ZONE,
    newest       TIMESTAMP WITH TIME ZONE,
    digest       VARCHAR(64)   NOT NULL,
    finished_at  TIMESTAMP WITH TIME ZONE,
    receipt_seq  BIGINT,
    PRIMARY KEY (run_id, data_class)
);

CREATE INDEX retention_purges_open ON retention_purges (data_class, finished_at);
