/**
 * The metrics hook: capabilities publish metric families on the management listener's {@code /prometheus} by
 * providing a {@link dev.siteward.gateway.metrics.MetricFamilies} bean.
 */
package dev.siteward.gateway.metrics;
