/**
 * Device data under retention rules from the active signed policy bundle (docs/retention.md): ingest with
 * minimisation ({@code POST /v1/data/{class}}), the purge job with legal holds and deletion receipts in the audit
 * log, export of what the rules let leave the site, and the retention report.
 */
package dev.siteward.gateway.retention;
