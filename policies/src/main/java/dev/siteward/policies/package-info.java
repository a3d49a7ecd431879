/** The policy language, its schema and evaluator. */
package dev.siteward.policies;
