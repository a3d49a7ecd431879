package dev.siteward.gateway.inference;

import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.models.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-model pipeline, taken only from the signed {@code siteward-model.yaml}: input validation and
 * pre-processing (shape, NaN/Inf, raw range, {@code (x * scale - mean) / std}) before the runtime, then
 * post-processing (activation, labels) and the threshold test after it. Stateless: the k-of-n filter per device is
 * {@link DecisionFilter}.
 */
public final class InferencePipeline {

    private final String model;
    private final long version;
    private final String input;
    private final int features;
    private final List<ModelSpec.Tensor> outputs;
    private final double scale;
    private final double[] mean;
    private final double[] std;
    private final double min;
    private final double max;
    private final String activation;
    private final List<String> labels;
    private final Map<String, Double> thresholds;
    private final String decisionOutput;
    private final int k;
    private final int n;
    private final int clear;
    private final String action;
    private final Map<String, Object> reference;

    private InferencePipeline(String model, long version, ModelSpec spec) throws ReadingError {
        this.model = model;
        this.version = version;
        if (spec.inputs().size() != 1 || spec.inputs().get(0).shape().size() != 2
                || !(spec.inputs().get(0).shape().get(1) instanceof Long width)
                || (spec.inputs().get(0).type() != null && !"float32".equals(spec.inputs().get(0).type()))) {
            throw new ReadingError(ReadingError.UNKNOWN_MODEL, model + " version " + version
                    + " does not take one float32 input of shape [batch, features]: shared inference cannot serve it");
        }
        this.input = spec.inputs().get(0).name();
        this.features = Math.toIntExact(width);
        this.outputs = spec.outputs();
        Map<String, Object> pre = spec.preprocessing();
        this.scale = pre.containsKey("scale") ? (double) pre.get("scale") : 1.0;
        this.mean = perFeature(pre.get("mean"), 0.0);
        this.std = perFeature(pre.get("std"), 1.0);
        this.min = pre.containsKey("min") ? (double) pre.get("min") : Double.NEGATIVE_INFINITY;
        this.max = pre.containsKey("max") ? (double) pre.get("max") : Double.POSITIVE_INFINITY;
        this.activation = (String) spec.postprocessing().getOrDefault("activation", "none");
        @SuppressWarnings("unchecked")
        List<String> l = (List<String>) spec.postprocessing().getOrDefault("labels", List.of());
        this.labels = l;
        this.thresholds = spec.thresholds();
        Map<String, Object> d = spec.decision();
        this.decisionOutput = d.isEmpty() ? null : (String) d.get("output");
        this.k = d.isEmpty() ? 1 : Math.toIntExact((Long) d.get("k"));
        this.n = d.isEmpty() ? 1 : Math.toIntExact((Long) d.get("n"));
        this.clear = d.isEmpty() ? 0 : Math.toIntExact((Long) d.get("clear"));
        this.action = d.isEmpty() ? null : (String) d.get("action");
        this.reference = spec.reference().get(input);
    }

    /** The pipeline of a verified model; refuses a model whose spec shared inference cannot serve. */
    public static InferencePipeline of(ModelRepository.VerifiedModel model) throws ReadingError {
        if (model.spec() == null) {
            throw new ReadingError(ReadingError.UNKNOWN_MODEL, model.name() + " version " + model.version()
                    + " has no " + ModelSpec.FILE_NAME + ": shared inference needs its inputs and outputs");
        }
        return new InferencePipeline(model.name(), model.version(), model.spec());
    }

    /** Builds a pipeline straight from a spec (tests and benchmarks). */
    public static InferencePipeline of(String model, long version, ModelSpec spec) throws ReadingError {
        return new InferencePipeline(model, version, spec);
    }

    private double[] perFeature(Object values, double fallback) throws ReadingError {
        double[] out = new double[features];
        java.util.Arrays.fill(out, fallback);
        if (values instanceof List<?> list) {
            if (list.size() != 1 && list.size() != features) {
                throw new ReadingError(ReadingError.UNKNOWN_MODEL, model + ": preprocessing mean/std has "
                        + list.size() + " values for " + features + " features");
            }
            for (int i = 0; i < features; i++) {
                out[i] = ((Number) list.get(list.size() == 1 ? 0 : i)).doubleValue();
            }
        }
        return out;
    }

    public String model() {
        return model;
    }

    public long version() {
        return version;
    }

    public String input() {
        return input;
    }

    public int features() {
        return features;
    }

    public List<String> outputNames() {
        return outputs.stream().map(ModelSpec.Tensor::name).toList();
    }

    /** The signed reference statistics of the input ({@code mean}, {@code std}, ...), or {@code null}. */
    public Map<String, Object> reference() {
        return reference;
    }

    /** The action the spec requests when an alarm starts, or {@code null}. */
    public String action() {
        return action;
    }

    /** A new k-of-n filter for one device. */
    public DecisionFilter newFilter() {
        return new DecisionFilter(k, n, clear);
    }

    /**
     * Validates raw features and writes the pre-processed row into {@code row}; refuses with {@code bad_shape},
     * {@code not_finite} or {@code out_of_range}, naming the first offending feature.
     */
    public float[] prepare(double[] raw) throws ReadingError {
        if (raw == null) {
            throw new ReadingError(ReadingError.BAD_SHAPE, "'features' is required: an array of numbers");
        }
        if (raw.length != features) {
            throw new ReadingError(ReadingError.BAD_SHAPE, "expected " + features + " features, got " + raw.length);
        }
        float[] row = new float[features];
        for (int i = 0; i < features; i++) {
            double x = raw[i];
            if (!Double.isFinite(x)) {
                throw new ReadingError(ReadingError.NOT_FINITE, "feature " + i + " is " + x);
            }
            if (x < min || x > max) {
                throw new ReadingError(ReadingError.OUT_OF_RANGE, "feature " + i + " is " + x + ", outside ["
                        + min + ", " + max + "]");
            }
            double v = (x * scale - mean[i]) / std[i];
            if (!Float.isFinite((float) v)) {
                throw new ReadingError(ReadingError.NOT_FINITE, "feature " + i + " overflows after scaling");
            }
            row[i] = (float) v;
        }
        return row;
    }

    /** Scores of one row: activation applied, keyed by label when the spec names them; one entry per output. */
    public Map<String, Object> outputs(Map<String, float[]> batch, int rowIndex, int batchSize) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (ModelSpec.Tensor t : outputs) {
            float[] all = batch.get(t.name());
            int width = all.length / batchSize;
            double[] v = new double[width];
            for (int j = 0; j < width; j++) {
                v[j] = all[rowIndex * width + j];
            }
            activate(v);
            if (!labels.isEmpty() && labels.size() == width) {
                Map<String, Double> named = new LinkedHashMap<>();
                for (int j = 0; j < width; j++) {
                    named.put(labels.get(j), v[j]);
                }
                out.put(t.name(), named);
            } else if (width == 1) {
                out.put(t.name(), v[0]);
            } else {
                List<Double> list = new ArrayList<>(width);
                for (double x : v) {
                    list.add(x);
                }
                out.put(t.name(), list);
            }
        }
        return out;
    }

    private void activate(double[] v) {
        if ("sigmoid".equals(activation)) {
            for (int j = 0; j < v.length; j++) {
                v[j] = 1.0 / (1.0 + Math.exp(-v[j]));
            }
        } else if ("softmax".equals(activation)) {
            double m = Double.NEGATIVE_INFINITY;
            for (double x : v) {
                m = Math.max(m, x);
            }
            double sum = 0;
            for (int j = 0; j < v.length; j++) {
                v[j] = Math.exp(v[j] - m);
                sum += v[j];
            }
            for (int j = 0; j < v.length; j++) {
                v[j] /= sum;
            }
        }
    }

    /**
     * Whether this row is above the threshold: the decision output's largest score against
     * {@code thresholds.<output>}; without a decision section, any thresholded output above its threshold.
     * {@code null} when the spec sets no thresholds (no decision).
     */
    public Boolean aboveThreshold(Map<String, Object> rowOutputs) {
        if (thresholds.isEmpty()) {
            return null;
        }
        if (decisionOutput != null) {
            return largest(rowOutputs.get(decisionOutput)) > thresholds.get(decisionOutput);
        }
        for (Map.Entry<String, Double> t : thresholds.entrySet()) {
            Object v = rowOutputs.get(t.getKey());
            if (v != null && largest(v) > t.getValue()) {
                return true;
            }
        }
        return false;
    }

    private static double largest(Object v) {
        if (v instanceof Double d) {
            return d;
        }
        java.util.Collection<?> c = v instanceof Map<?, ?> m ? m.values() : (List<?>) v;
        return c.stream().mapToDouble(x -> (Double) x).max().orElse(Double.NEGATIVE_INFINITY);
    }

    /**
     * The score a decision is made on, for comparing two releases (shadow mode): the largest column of the decision
     * output, else of the first thresholded output, else of the first output; {@code null} when there is none.
     */
    public Double decisionScore(Map<String, Object> rowOutputs) {
        String name = decisionOutput != null ? decisionOutput
                : !thresholds.isEmpty() ? thresholds.keySet().iterator().next()
                : outputs.isEmpty() ? null : outputs.get(0).name();
        Object v = name == null ? null : rowOutputs.get(name);
        return v == null ? null : largest(v);
    }
}
