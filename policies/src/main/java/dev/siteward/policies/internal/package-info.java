/**
 * Not API: YAML reading with source locations and JSON Schema validation, shared by the loader, the test runner
 * and the checker. May change without notice.
 */
package dev.siteward.policies.internal;
