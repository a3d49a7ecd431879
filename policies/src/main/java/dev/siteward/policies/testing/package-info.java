/**
 * Data-driven policy tests: YAML case files (request and expected decision) run against a bundle, like
 * {@code opa test}. Entry point: {@link dev.siteward.policies.testing.PolicyTestRunner}.
 */
package dev.siteward.policies.testing;
