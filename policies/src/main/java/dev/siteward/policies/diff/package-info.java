/**
 * {@code siteward policy diff OLD NEW}: which subject/action/resource combinations a new bundle newly allows or
 * denies, and which recorded decisions it would change. Entry point: {@link dev.siteward.policies.diff.PolicyDiff}.
 */
package dev.siteward.policies.diff;
