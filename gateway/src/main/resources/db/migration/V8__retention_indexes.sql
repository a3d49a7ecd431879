-- Siteward gateway schema, version 8: the gateway's own action decisions under the action-decisions retention rule.
-- Portable subset (H2 2.x and PostgreSQL 15, docs/storage.md).

-- A purge walks policy_decisions oldest first by (decided_at, id), like data_records by (data_class, recorded_at,
-- id); with only the V2 index on decided_at, H2 read and sorted every remaining decision for each page.
CREATE INDEX policy_decisions_time_id ON policy_decisions (decided_at, id);
