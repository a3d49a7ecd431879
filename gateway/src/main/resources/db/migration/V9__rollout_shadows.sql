-- Siteward gateway schema, version 9: shadow mode of rollouts (docs/rollouts.md, "Shadow mode").
-- Portable subset (H2 2.x and PostgreSQL 15, docs/storage.md).

-- A rollout started with --shadow runs its version beside the active one on the same readings until shadow_until
-- (or until the rollout stops being active). The gateway adds what it compared to this row every few seconds, so
-- the counts and the latency histograms survive a restart. Histograms are comma-separated bucket counts over the
-- fixed bounds of ShadowLatency (the same on every gateway).
CREATE TABLE rollout_shadows (
    rollout_id       VARCHAR(36)   NOT NULL PRIMARY KEY REFERENCES rollouts (id),
    model_name       VARCHAR(129)  NOT NULL,
    version          BIGINT        NOT NULL,
    shadow_until     TIMESTAMP WITH TIME ZONE NOT NULL,
    tolerance        DOUBLE PRECISION NOT NULL,
    compared         BIGINT        NOT NULL,
    agreed           BIGINT        NOT NULL,
    decisions_equal  BIGINT        NOT NULL,
    shadow_errors    BIGINT        NOT NULL,
    shed             BIGINT        NOT NULL,
    active_latency   VARCHAR(2000) NOT NULL,
    shadow_latency   VARCHAR(2000) NOT NULL,
    updated_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT rollout_shadows_tolerance CHECK (tolerance >= 0 AND tolerance <= 1)
);
