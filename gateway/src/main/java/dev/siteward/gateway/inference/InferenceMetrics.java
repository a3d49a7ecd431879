package dev.siteward.gateway.inference;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Counters and histograms of shared inference, rendered as Prometheus text (exposition format 0.0.4): reading →
 * result latency, batch sizes, queue depth, shed readings and errors per model and code.
 */
public final class InferenceMetrics {

    private static final double[] LATENCY_BUCKETS_MS = {0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000};
    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Map<String, Histogram> batches = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> results = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> repeats = new ConcurrentHashMap<>();
    private final Map<String, IntSupplier> depth = new ConcurrentHashMap<>();
    private final AtomicLong swaps = new AtomicLong();

    /** A result published for a model, {@code millis} after its reading arrived. */
    public void result(String model, double millis) {
        results.computeIfAbsent(model, m -> new LongAdder()).increment();
        latency.computeIfAbsent(model, m -> new Histogram(LATENCY_BUCKETS_MS)).observe(millis);
    }

    /** A resent reading (same device, model and seq) answered without being counted, stored or acted on again. */
    public void repeat(String model) {
        repeats.computeIfAbsent(model, m -> new LongAdder()).increment();
    }

    /** Count of resent readings answered as repeats for the model. */
    public long repeats(String model) {
        LongAdder a = repeats.get(model);
        return a == null ? 0 : a.sum();
    }

    /** One batch run of a model. */
    public void batch(String model, int size) {
        batches.computeIfAbsent(model, m -> new Histogram(BATCH_BUCKETS)).observe(size);
    }

    /** A reading refused with a code ({@code model} may be {@code "-"} when no model was resolved). */
    public void error(String model, String code) {
        errors.computeIfAbsent(model + "\u0000" + code, m -> new LongAdder()).increment();
    }

    /** Registers a model's queue depth gauge. */
    public void queue(String model, IntSupplier size) {
        depth.put(model, size);
    }

    /** A hot swap to a new release. */
    public void swapped() {
        swaps.incrementAndGet();
    }

    /** Count of errors with this code for the model (tests and status). */
    public long errors(String model, String code) {
        LongAdder a = errors.get(model + "\u0000" + code);
        return a == null ? 0 : a.sum();
    }

    /** Count of results for the model. */
    public long results(String model) {
        LongAdder a = results.get(model);
        return a == null ? 0 : a.sum();
    }

    /** The Prometheus text exposition. */
    public String prometheus() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP siteward_inference_latency_ms Reading arrival to result, milliseconds.\n");
        b.append("# TYPE siteward_inference_latency_ms histogram\n");
        new TreeMap<>(latency).forEach((m, h) -> h.render(b, "siteward_inference_latency_ms", m));
        b.append("# HELP siteward_inference_batch_size Rows per ONNX Runtime call.\n");
        b.append("# TYPE siteward_inference_batch_size histogram\n");
        new TreeMap<>(batches).forEach((m, h) -> h.render(b, "siteward_inference_batch_size", m));
        b.append("# HELP siteward_inference_results_total Results published.\n");
        b.append("# TYPE siteward_inference_results_total counter\n");
        new TreeMap<>(results).forEach((m, a) -> b.append("siteward_inference_results_total{model=\"")
                .append(esc(m)).append("\"} ").append(a.sum()).append('\n'));
        b.append("# HELP siteward_inference_queue_depth Readings waiting for a batch.\n");
        b.append("# TYPE siteward_inference_queue_depth gauge\n");
        new TreeMap<>(depth).forEach((m, s) -> b.append("siteward_inference_queue_depth{model=\"").append(esc(m))
                .append("\"} ").append(s.getAsInt()).append('\n'));
        b.append("# HELP siteward_inference_errors_total Readings refused, by model and code (shed = dropped).\n");
        b.append("# TYPE siteward_inference_errors_total counter\n");
        new TreeMap<>(errors).forEach((k, a) -> {
            String[] p = k.split("\u0000", 2);
            b.append("siteward_inference_errors_total{model=\"").append(esc(p[0])).append("\",code=\"")
                    .append(esc(p[1])).append("\"} ").append(a.sum()).append('\n');
        });
        b.append("# HELP siteward_inference_repeats_total Resent readings answered again but counted once.\n");
        b.append("# TYPE siteward_inference_repeats_total counter\n");
        new TreeMap<>(repeats).forEach((m, a) -> b.append("siteward_inference_repeats_total{model=\"")
                .append(esc(m)).append("\"} ").append(a.sum()).append('\n'));
        b.append("# HELP siteward_inference_swaps_total Hot swaps to a new release.\n");
        b.append("# TYPE siteward_inference_swaps_total counter\n");
        b.append("siteward_inference_swaps_total ").append(swaps.get()).append('\n');
        return b.toString();
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final LongAdder count = new LongAdder();
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(v);
        }

        void render(StringBuilder b, String name, String model) {
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                b.append(name).append("_bucket{model=\"").append(esc(model)).append("\",le=\"")
                        .append(String.format(Locale.ROOT, "%s", bounds[i])).append("\"} ").append(cumulative)
                        .append('\n');
            }
            b.append(name).append("_bucket{model=\"").append(esc(model)).append("\",le=\"+Inf\"} ")
                    .append(count.sum()).append('\n');
            b.append(name).append("_sum{model=\"").append(esc(model)).append("\"} ")
                    .append(String.format(Locale.ROOT, "%.6f", sum.sum())).append('\n');
            b.append(name).append("_count{model=\"").append(esc(model)).append("\"} ").append(count.sum())
                    .append('\n');
        }
    }
}
