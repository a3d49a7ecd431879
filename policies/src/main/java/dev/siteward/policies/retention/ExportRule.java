package dev.siteward.policies.retention;

import java.time.Duration;
import java.util.Set;

/**
 * What of a class may leave the site: the listed fields of each record, or, with {@code aggregatesOnly}, only
 * per-device counts, bytes and numeric summaries over windows of {@code aggregateEvery}. {@link #NONE} (no export
 * section in the policy) lets nothing out.
 */
public record ExportRule(boolean allowed, Set<String> fields, boolean aggregatesOnly, Duration aggregateEvery) {

    /** The default aggregation window. */
    public static final Duration DEFAULT_AGGREGATE_EVERY = Duration.ofHours(1);

    /** Nothing of the class may be exported. */
    public static final ExportRule NONE = new ExportRule(false, Set.of(), false, DEFAULT_AGGREGATE_EVERY);

    public ExportRule {
        fields = Set.copyOf(fields);
    }
}
