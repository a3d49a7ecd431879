/**
 * {@code siteward policy check}: schema errors and lint findings (shadowed, redundant and never-matching rules,
 * unknown labels), each with file:line and a stable code. Entry point:
 * {@link dev.siteward.policies.check.PolicyChecker}.
 */
package dev.siteward.policies.check;
