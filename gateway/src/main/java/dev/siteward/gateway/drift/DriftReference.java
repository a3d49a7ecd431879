package dev.siteward.gateway.drift;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The bins a model's signed {@code reference} statistics give each input feature. The reference states a mean and
 * a standard deviation per feature (as {@code siteward-model.yaml}'s {@code reference.<input>: {mean, std}}), so the
 * bins are the deciles of the normal law N(mean, std): nine edges {@code mean + std * z_k} with {@code z_k} the
 * standard normal quantile of {@code k/10}, and each of the ten bins expects 10% of the readings. A value equal to an
 * edge falls in the upper bin. A reference without mean and std gives no bins (no drift for that model).
 */
public final class DriftReference {

    /** Bins per feature. */
    public static final int BINS = 10;

    /** Standard normal quantiles of 0.1 .. 0.9 (Python's {@code statistics.NormalDist().inv_cdf(k / 10)}). */
    private static final double[] DECILES = {-1.2815515655446008, -0.8416212335729142, -0.5244005127080407,
        -0.2533471031357998, 0.0, 0.2533471031357998, 0.5244005127080407, 0.8416212335729144, 1.2815515655446008};

    private final double[][] edges;

    private DriftReference(double[][] edges) {
        this.edges = edges;
    }

    /**
     * The bins for {@code features} features from one input's reference section, or {@code null} when it has no
     * mean and std, or gives a number of values other than 1 (for every feature) or {@code features}.
     */
    public static DriftReference of(Map<String, Object> reference, int features) {
        if (reference == null || !(reference.get("mean") instanceof List<?> mean)
                || !(reference.get("std") instanceof List<?> std) || !fits(mean, features) || !fits(std, features)) {
            return null;
        }
        double[][] edges = new double[features][DECILES.length];
        for (int f = 0; f < features; f++) {
            double m = ((Number) mean.get(mean.size() == 1 ? 0 : f)).doubleValue();
            double s = ((Number) std.get(std.size() == 1 ? 0 : f)).doubleValue();
            for (int k = 0; k < DECILES.length; k++) {
                edges[f][k] = m + s * DECILES[k];
            }
        }
        return new DriftReference(edges);
    }

    private static boolean fits(List<?> values, int features) {
        return (values.size() == 1 || values.size() == features) && values.stream().allMatch(v -> v instanceof Number);
    }

    public int features() {
        return edges.length;
    }

    /** The bin (0 .. {@value #BINS} - 1) of a feature's value: the number of edges at or below it. */
    public int bin(int feature, double value) {
        double[] e = edges[feature];
        int lo = 0;
        int hi = e.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (e[mid] <= value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The expected share of readings in every bin. */
    public double expected() {
        return 1.0 / BINS;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DriftReference r && Arrays.deepEquals(edges, r.edges);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(edges);
    }
}
