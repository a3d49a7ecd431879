package dev.siteward.gateway.metrics;

/**
 * Metric families a capability contributes to the management listener's {@code /prometheus}: every bean of this
 * type is asked for its text when the endpoint is scraped, after the inference metrics, in the order of
 * {@link #order()} and then class name. Each contributor renders complete families ({@code # HELP}, {@code # TYPE}
 * and samples) in the Prometheus text exposition format 0.0.4, with family names no other contributor uses.
 * Rendering must be cheap and must not throw: a contributor that needs a database scan caches its result.
 */
public interface MetricFamilies {

    /** The families, as Prometheus text (each line ending in {@code \n}); empty when there is nothing to report. */
    String prometheus();

    /** Where the families go relative to other contributors (lower first). */
    default int order() {
        return 0;
    }

    /**
     * The text of every contributor, sorted by {@link #order()} then class name. A contributor that throws is left
     * out of this scrape (and logged) rather than failing the whole endpoint.
     */
    static String render(java.util.Collection<? extends MetricFamilies> contributors) {
        StringBuilder b = new StringBuilder();
        contributors.stream().sorted(java.util.Comparator.comparingInt(MetricFamilies::order)
                .thenComparing(c -> c.getClass().getName())).forEach(c -> {
                    try {
                        b.append(c.prometheus());
                    } catch (RuntimeException e) {
                        org.slf4j.LoggerFactory.getLogger(MetricFamilies.class)
                                .warn("metric families of {} left out of this scrape", c.getClass().getName(), e);
                    }
                });
        return b.toString();
    }

    /** Escapes a label value (backslash, double quote, line feed), as the text format requires. */
    static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
