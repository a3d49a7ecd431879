package dev.siteward.gateway.inference;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Inference-stage benchmark (docs/benchmarks.md, "Shared inference"): rows/s of the benchmark MLP (32 → 64 → 64 →
 * 4) through {@link DynamicBatcher} at batch 32 next to a direct ONNX Runtime call at batch 32 in the same process,
 * and the batcher under load with batching on (32) and off (1). One producer thread keeps the queue full (64
 * devices, round-robin); the batcher's one worker runs the model. Run:
 * {@code mvn -B -q -pl gateway -am -Pbench-inference -DskipTests test -Dbench.seconds=5}.
 */
public final class InferenceBench {

    private InferenceBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "5"));
        System.out.printf(Locale.ROOT, "inference bench: java %s, %d cpus, %.0f s per measurement%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), seconds);
        for (int round = 1; round <= 3; round++) {
            // the direct baseline is measured before and after the batcher, and averaged (the machine is shared)
            double directBefore = direct(32, seconds);
            double batched = batcher(32, seconds);
            double directAfter = direct(32, seconds);
            double direct1 = direct(1, seconds);
            double unbatched = batcher(1, seconds);
            double direct32 = (directBefore + directAfter) / 2;
            System.out.printf(Locale.ROOT, "round %d: direct batch 32 %.0f rows/s (%.0f before, %.0f after); "
                    + "batcher max 32 %.0f rows/s (%.0f%% of direct 32); direct batch 1 %.0f rows/s; "
                    + "batcher max 1 %.0f rows/s; batching on/off %.1fx%n", round, direct32, directBefore,
                    directAfter, batched, 100 * batched / direct32, direct1, unbatched, batched / unbatched);
        }
    }

    static double direct(int batch, double seconds) throws Exception {
        try (LoadedModel m = DemoModels.load("bench-mlp", "bench/mlp", 1)) {
            float[] rows = rows(batch);
            long end = System.nanoTime() + (long) (seconds * 0.2e9);
            while (System.nanoTime() < end) {
                m.onnx().run(rows, batch);
            }
            long n = 0;
            long start = System.nanoTime();
            end = start + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                Map<String, float[]> out = m.onnx().run(rows, batch);
                n += out.get("scores").length / 4;
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }

    static double batcher(int maxBatch, double seconds) throws Exception {
        LoadedModel m = DemoModels.load("bench-mlp", "bench/mlp", 1);
        LongAdder done = new LongAdder();
        DynamicBatcher.Sink sink = new DynamicBatcher.Sink() {
            @Override
            public void completed(DynamicBatcher.Job job, LoadedModel model, Map<String, float[]> outputs, int index,
                                  int size) {
                done.increment();
            }

            @Override
            public void failed(DynamicBatcher.Job job, ReadingError error) {
                throw new IllegalStateException(error.getMessage());
            }
        };
        double[] raw = new double[32];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (i % 7) * 0.1 - 0.3;
        }
        InferencePipeline p = m.pipeline();
        float[] row = p.prepare(raw);
        try (DynamicBatcher b = new DynamicBatcher("bench/mlp", m, new DynamicBatcher.Settings(maxBatch, 2_000, 4_096,
                4_096), sink, new InferenceMetrics())) {
            String[] devices = new String[64];
            for (int i = 0; i < devices.length; i++) {
                devices[i] = "sensor-" + i;
            }
            long warm = System.nanoTime() + (long) (seconds * 0.2e9);
            long start = 0;
            long before = 0;
            long end = warm + (long) (seconds * 1e9);
            int i = 0;
            boolean measuring = false;
            while (true) {
                long now = System.nanoTime();
                if (!measuring && now >= warm) {
                    measuring = true;
                    start = now;
                    before = done.sum();
                }
                if (now >= end) {
                    break;
                }
                // a fresh job per reading, as the MQTT path makes one; the row is validated and scaled once
                if (!b.offer(new DynamicBatcher.Job(devices[i++ & 63], raw, row, p, now, null))) {
                    Thread.onSpinWait();
                    if (b.depth() > 2_048) {
                        TimeUnit.MICROSECONDS.sleep(100);
                    }
                }
            }
            double rate = (done.sum() - before) / ((System.nanoTime() - start) / 1e9);
            b.drain(30, TimeUnit.SECONDS);
            return rate;
        }
    }

    private static float[] rows(int batch) {
        float[] rows = new float[batch * 32];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = ((i * 31) % 17) * 0.05f - 0.4f;
        }
        return rows;
    }
}
