package dev.siteward.gateway.models;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A model's {@code siteward-model.yaml}, signed with the model: its entry ONNX file, the entry's inputs and outputs,
 * and optional sections for inference (pre/post-processing, thresholds, reference input statistics). Parsing is
 * strict: unknown keys, duplicate keys, wrong types and out-of-range values are refused, naming the key.
 *
 * <pre>
 * entry: model.onnx                  # required: an .onnx file of the model (relative path)
 * inputs:                            # required, at least one
 *   - name: images
 *     shape: [1, 3, 224, 224]        # integers >= 1; -1 or a name for a dynamic dimension
 *     type: float32                  # optional: float32 float16 float64 int8 uint8 int16 int32 int64 bool
 * outputs:                           # required, at least one (same form)
 *   - name: scores
 *     shape: [1, 4]
 * preprocessing:                     # optional
 *   layout: NCHW                     # NCHW or NHWC
 *   scale: 0.00392156862             # multiply raw values first
 *   mean: [0.485, 0.456, 0.406]      # then subtract per channel
 *   std: [0.229, 0.224, 0.225]       # then divide per channel (each > 0; as many as mean)
 *   min: 0                           # raw values below are refused (inference: out_of_range)
 *   max: 255                         # raw values above are refused
 * postprocessing:                    # optional
 *   activation: softmax              # none, softmax or sigmoid
 *   labels: [person, car, bike, dog]
 * thresholds:                        # optional: name -> number
 *   score: 0.5
 * reference:                         # optional: reference statistics per input name
 *   images: {mean: [0.45], std: [0.22], min: 0, max: 1}
 * decision:                          # optional: how shared inference turns scores into a decision
 *   output: scores                   # the output compared with thresholds.&lt;output&gt; (required, with a threshold)
 *   k: 3                             # alarm when at least k of the last n readings are above (default 1 of 1)
 *   n: 5
 *   clear: 1                         # an alarm clears when at most this many of the last n are above (k - 1)
 *   action: line.stop                # optional: action requested (through the policy engine) when an alarm starts
 * </pre>
 */
public record ModelSpec(String entry, List<Tensor> inputs, List<Tensor> outputs, Map<String, Object> preprocessing,
                        Map<String, Object> postprocessing, Map<String, Double> thresholds,
                        Map<String, Map<String, Object>> reference, Map<String, Object> decision) {

    /** The file name the spec must have, at the model's root. */
    public static final String FILE_NAME = "siteward-model.yaml";
    static final int MAX_BYTES = 256 * 1024;

    private static final Set<String> TOP = Set.of("entry", "inputs", "outputs", "preprocessing", "postprocessing",
            "thresholds", "reference", "decision");
    private static final Set<String> TENSOR_KEYS = Set.of("name", "shape", "type");
    private static final Set<String> TYPES = Set.of("float32", "float16", "float64", "int8", "uint8", "int16",
            "int32", "int64", "bool");
    private static final Set<String> PRE = Set.of("layout", "scale", "mean", "std", "min", "max");
    private static final Set<String> DECISION = Set.of("output", "k", "n", "clear", "action");
    private static final Set<String> POST = Set.of("activation", "labels");
    private static final Set<String> REF = Set.of("mean", "std", "min", "max");

    /** A named tensor: dimensions are Long (fixed, >= 1) or String (dynamic: "-1" becomes "?"). */
    public record Tensor(String name, List<Object> shape, String type) {
    }

    /** Parses and validates the spec; every refusal names the key. */
    public static ModelSpec parse(byte[] yaml) throws ModelException {
        if (yaml.length > MAX_BYTES) {
            throw invalid("is larger than " + MAX_BYTES + " bytes");
        }
        Object root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(0);
            options.setAllowRecursiveKeys(false);
            root = new Yaml(new SafeConstructor(options)).load(new String(yaml, StandardCharsets.UTF_8));
        } catch (YAMLException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            throw invalid("is not valid YAML: " + m.lines().findFirst().orElse(m));
        }
        Map<String, Object> top = map(root, "the document", TOP);
        Object entryValue = top.get("entry");
        if (!(entryValue instanceof String entry) || entry.isBlank()) {
            throw invalid("'entry' is required: the path of the model's .onnx file");
        }
        if (!entry.endsWith(".onnx") || entry.startsWith("/") || entry.contains("\\")
                || List.of(entry.split("/", -1)).stream().anyMatch(s -> s.isEmpty() || s.equals(".")
                || s.equals(".."))) {
            throw invalid("'entry' must be a relative path of an .onnx file, got '" + entry + "'");
        }
        List<Tensor> inputs = tensors(top.get("inputs"), "inputs");
        List<Tensor> outputs = tensors(top.get("outputs"), "outputs");
        Map<String, Object> pre = top.containsKey("preprocessing") ? preprocessing(top.get("preprocessing")) : Map.of();
        Map<String, Object> post = top.containsKey("postprocessing")
                ? postprocessing(top.get("postprocessing")) : Map.of();
        Map<String, Double> thresholds = new LinkedHashMap<>();
        if (top.containsKey("thresholds")) {
            Map<String, Object> t = map(top.get("thresholds"), "'thresholds'", null);
            for (Map.Entry<String, Object> e : t.entrySet()) {
                thresholds.put(e.getKey(), number(e.getValue(), "thresholds." + e.getKey()));
            }
        }
        Map<String, Map<String, Object>> reference = new LinkedHashMap<>();
        if (top.containsKey("reference")) {
            Set<String> names = new java.util.HashSet<>();
            inputs.forEach(i -> names.add(i.name()));
            for (Map.Entry<String, Object> e : map(top.get("reference"), "'reference'", null).entrySet()) {
                if (!names.contains(e.getKey())) {
                    throw invalid("'reference." + e.getKey() + "' is not one of the inputs");
                }
                String where = "reference." + e.getKey();
                Map<String, Object> r = map(e.getValue(), "'" + where + "'", REF);
                Map<String, Object> out = new LinkedHashMap<>();
                if (r.containsKey("mean")) {
                    out.put("mean", numbers(r.get("mean"), where + ".mean", false));
                }
                if (r.containsKey("std")) {
                    out.put("std", numbers(r.get("std"), where + ".std", true));
                }
                for (String k : List.of("min", "max")) {
                    if (r.containsKey(k)) {
                        out.put(k, number(r.get(k), where + "." + k));
                    }
                }
                if (out.containsKey("min") && out.containsKey("max")
                        && (double) out.get("min") > (double) out.get("max")) {
                    throw invalid("'" + where + "': min is greater than max");
                }
                reference.put(e.getKey(), Map.copyOf(out));
            }
        }
        Map<String, Object> decision = top.containsKey("decision")
                ? decision(top.get("decision"), outputs, thresholds) : Map.of();
        return new ModelSpec(entry, inputs, outputs, pre, post, Map.copyOf(thresholds), Map.copyOf(reference),
                decision);
    }

    /**
     * Checks the spec against the entry's graph: every declared input and output exists with the same rank, and
     * fixed dimensions agree (a dynamic dimension on either side matches anything).
     */
    public void checkAgainst(OnnxCheck.Result graph) throws ModelException {
        compare(inputs, graph.inputs(), "input");
        compare(outputs, graph.outputs(), "output");
    }

    private void compare(List<Tensor> declared, Map<String, OnnxCheck.ValueInfo> actual, String what)
            throws ModelException {
        for (Tensor t : declared) {
            OnnxCheck.ValueInfo v = actual.get(t.name());
            if (v == null) {
                throw ModelException.refused("model.spec_mismatch", FILE_NAME + ": " + what + " '" + t.name()
                        + "' is not an " + what + " of " + entry + " (it has " + actual.keySet() + ")");
            }
            if (v.shape() == null) {
                continue;
            }
            if (v.shape().size() != t.shape().size()) {
                throw ModelException.refused("model.spec_mismatch", FILE_NAME + ": " + what + " '" + t.name()
                        + "' has rank " + t.shape().size() + " but " + entry + " says " + v.shape().size());
            }
            for (int i = 0; i < t.shape().size(); i++) {
                Object a = t.shape().get(i);
                Object b = v.shape().get(i);
                if (a instanceof Long x && b instanceof Long y && !x.equals(y)) {
                    throw ModelException.refused("model.spec_mismatch", FILE_NAME + ": " + what + " '" + t.name()
                            + "' dimension " + i + " is " + x + " but " + entry + " says " + y);
                }
            }
        }
    }

    private static List<Tensor> tensors(Object value, String key) throws ModelException {
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw invalid("'" + key + "' is required: a list of {name, shape[, type]}");
        }
        List<Tensor> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String where = key + "[" + i + "]";
            Map<String, Object> t = map(list.get(i), "'" + where + "'", TENSOR_KEYS);
            if (!(t.get("name") instanceof String name) || name.isEmpty()) {
                throw invalid("'" + where + ".name' is required");
            }
            if (!seen.add(name)) {
                throw invalid("'" + key + "' names '" + name + "' twice");
            }
            if (!(t.get("shape") instanceof List<?> dims)) {
                throw invalid("'" + where + ".shape' is required: a list of dimensions");
            }
            List<Object> shape = new ArrayList<>();
            for (Object d : dims) {
                if (d instanceof Integer || d instanceof Long) {
                    long n = ((Number) d).longValue();
                    if (n == -1) {
                        shape.add(OnnxCheck.DYNAMIC);
                    } else if (n >= 1) {
                        shape.add(n);
                    } else {
                        throw invalid("'" + where + ".shape': dimension " + n + " (use >= 1, or -1 for dynamic)");
                    }
                } else if (d instanceof String s && s.matches("[A-Za-z_][A-Za-z0-9_]{0,63}")) {
                    shape.add(s);
                } else {
                    throw invalid("'" + where + ".shape': dimension '" + d + "' is not an integer or a name");
                }
            }
            Object type = t.get("type");
            if (type != null && !(type instanceof String s && TYPES.contains(s))) {
                throw invalid("'" + where + ".type' must be one of " + new java.util.TreeSet<>(TYPES));
            }
            out.add(new Tensor(name, List.copyOf(shape), (String) type));
        }
        return List.copyOf(out);
    }

    private static Map<String, Object> preprocessing(Object value) throws ModelException {
        Map<String, Object> p = map(value, "'preprocessing'", PRE);
        Map<String, Object> out = new LinkedHashMap<>();
        if (p.containsKey("layout")) {
            if (!"NCHW".equals(p.get("layout")) && !"NHWC".equals(p.get("layout"))) {
                throw invalid("'preprocessing.layout' must be NCHW or NHWC");
            }
            out.put("layout", p.get("layout"));
        }
        if (p.containsKey("scale")) {
            out.put("scale", number(p.get("scale"), "preprocessing.scale"));
        }
        if (p.containsKey("mean")) {
            out.put("mean", numbers(p.get("mean"), "preprocessing.mean", false));
        }
        if (p.containsKey("std")) {
            out.put("std", numbers(p.get("std"), "preprocessing.std", true));
        }
        for (String k : List.of("min", "max")) {
            if (p.containsKey(k)) {
                out.put(k, number(p.get(k), "preprocessing." + k));
            }
        }
        if (out.containsKey("min") && out.containsKey("max") && (double) out.get("min") > (double) out.get("max")) {
            throw invalid("'preprocessing': min is greater than max");
        }
        if (out.containsKey("mean") != out.containsKey("std")
                || (out.containsKey("mean")
                && ((List<?>) out.get("mean")).size() != ((List<?>) out.get("std")).size())) {
            throw invalid("'preprocessing': mean and std go together, with as many values each");
        }
        return Map.copyOf(out);
    }

    private static Map<String, Object> decision(Object value, List<Tensor> outputs, Map<String, Double> thresholds)
            throws ModelException {
        Map<String, Object> d = map(value, "'decision'", DECISION);
        Map<String, Object> out = new LinkedHashMap<>();
        if (!(d.get("output") instanceof String output) || outputs.stream().noneMatch(t -> t.name().equals(output))) {
            throw invalid("'decision.output' must name one of the outputs");
        }
        if (!thresholds.containsKey(output)) {
            throw invalid("'decision.output' needs 'thresholds." + output + "'");
        }
        out.put("output", output);
        long n = count(d.getOrDefault("n", 1), "decision.n", 1, 1000);
        long k = count(d.getOrDefault("k", 1), "decision.k", 1, n);
        long clear = count(d.getOrDefault("clear", k - 1), "decision.clear", 0, k - 1);
        out.put("n", n);
        out.put("k", k);
        out.put("clear", clear);
        if (d.containsKey("action")) {
            if (!(d.get("action") instanceof String a) || !a.matches("[a-z][a-z0-9_.-]{0,63}")) {
                throw invalid("'decision.action' must be an action name such as line.stop");
            }
            out.put("action", a);
        }
        return Map.copyOf(out);
    }

    private static long count(Object v, String key, long min, long max) throws ModelException {
        if ((v instanceof Integer || v instanceof Long) && ((Number) v).longValue() >= min
                && ((Number) v).longValue() <= max) {
            return ((Number) v).longValue();
        }
        throw invalid("'" + key + "' must be an integer from " + min + " to " + max);
    }

    private static Map<String, Object> postprocessing(Object value) throws ModelException {
        Map<String, Object> p = map(value, "'postprocessing'", POST);
        Map<String, Object> out = new LinkedHashMap<>();
        if (p.containsKey("activation")) {
            Object a = p.get("activation");
            if (!List.of("none", "softmax", "sigmoid").contains(a)) {
                throw invalid("'postprocessing.activation' must be none, softmax or sigmoid");
            }
            out.put("activation", a);
        }
        if (p.containsKey("labels")) {
            if (!(p.get("labels") instanceof List<?> labels) || labels.isEmpty()
                    || !labels.stream().allMatch(l -> l instanceof String s && !s.isEmpty())) {
                throw invalid("'postprocessing.labels' must be a non-empty list of names");
            }
            out.put("labels", List.copyOf(labels));
        }
        return Map.copyOf(out);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what, Set<String> allowed) throws ModelException {
        if (!(value instanceof Map<?, ?> m)) {
            throw invalid(what + " must be a mapping");
        }
        for (Object k : m.keySet()) {
            if (!(k instanceof String s)) {
                throw invalid(what + ": key '" + k + "' is not text");
            }
            if (allowed != null && !allowed.contains(s)) {
                throw invalid(what + ": unknown key '" + s + "' (allowed: " + new java.util.TreeSet<>(allowed) + ")");
            }
        }
        return (Map<String, Object>) m;
    }

    private static double number(Object v, String key) throws ModelException {
        if (v instanceof Number n && !(v instanceof Double d && (d.isNaN() || d.isInfinite()))) {
            return n.doubleValue();
        }
        throw invalid("'" + key + "' must be a number");
    }

    private static List<Double> numbers(Object v, String key, boolean positive) throws ModelException {
        if (!(v instanceof List<?> list) || list.isEmpty()) {
            throw invalid("'" + key + "' must be a non-empty list of numbers");
        }
        List<Double> out = new ArrayList<>();
        for (Object o : list) {
            double d = number(o, key);
            if (positive && d <= 0) {
                throw invalid("'" + key + "' values must be greater than 0");
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    private static ModelException invalid(String message) {
        return ModelException.refused("model.spec_invalid", FILE_NAME + " " + (message.startsWith("'")
                || message.startsWith("is") ? "" : ": ") + message);
    }
}
