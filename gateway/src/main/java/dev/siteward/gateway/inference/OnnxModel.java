package dev.siteward.gateway.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One ONNX Runtime CPU session built from a model's verified bytes (never re-read from disk), for models with one
 * float32 input of shape {@code [batch, features]}. One intra-op thread with spinning off: on a small machine the
 * default spinning doubles the CPU per call for no gain. Every tensor and result is closed after each call.
 */
public final class OnnxModel implements AutoCloseable {

    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;
    private final int features;
    private final List<String> outputs;

    /** Builds the session; {@code input} and {@code features} come from the signed spec. */
    public OnnxModel(byte[] verifiedBytes, String input, int features, List<String> outputs) throws OrtException {
        this.env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.addConfigEntry("session.inter_op.allow_spinning", "0");
            this.session = env.createSession(verifiedBytes, options);
        }
        this.input = input;
        this.features = features;
        this.outputs = List.copyOf(outputs);
    }

    /** Number of features per row. */
    public int features() {
        return features;
    }

    /**
     * Runs one batch: {@code rows} row-major {@code [count, features]} floats; returns each output as row-major
     * floats ({@code count * width}) by output name.
     */
    public Map<String, float[]> run(float[] rows, int count) throws OrtException {
        if (rows.length < count * features) {
            throw new IllegalArgumentException("expected " + count * features + " values, got " + rows.length);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(rows, 0, count * features),
                new long[] {count, features});
             OrtSession.Result result = session.run(Map.of(input, tensor))) {
            for (String name : outputs) {
                OnnxValue v = result.get(name).orElseThrow(() -> new IllegalStateException("no output " + name));
                if (!(v instanceof OnnxTensor t)) {
                    throw new IllegalStateException("output " + name + " is not a tensor");
                }
                FloatBuffer fb = t.getFloatBuffer();
                float[] values = new float[fb.remaining()];
                fb.get(values);
                out.put(name, values);
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // nothing more to release
        }
    }
}
