/**
 * Input drift of shared inference: each device's recent readings per model against the model's signed reference
 * statistics, by the population stability index per feature (docs/inference.md, "Drift").
 */
package dev.siteward.gateway.drift;
