/**
 * Retention rules carried in signed policy bundles (docs/retention.md): per data class a maximum age, a maximum
 * total size, the fields dropped or replaced by a keyed hash at ingest, export rules; and legal holds. Pure data and
 * matching logic, loaded and checked by {@link dev.siteward.policies.PolicyLoader}.
 */
package dev.siteward.policies.retention;
