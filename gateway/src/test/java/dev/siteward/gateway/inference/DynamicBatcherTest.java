package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {

    /** Records outcomes: device -> list of (context, score, version). */
    static final class Recorder implements DynamicBatcher.Sink {
        final List<Object[]> done = Collections.synchronizedList(new ArrayList<>());
        final List<String> order = Collections.synchronizedList(new ArrayList<>());
        final Map<String, AtomicInteger> failed = new ConcurrentHashMap<>();
        volatile CountDownLatch gate;

        @Override
        public void completed(DynamicBatcher.Job job, LoadedModel model, Map<String, float[]> outputs, int index,
                              int size) {
            awaitGate();
            order.add(job.device());
            done.add(new Object[] {job.context(), (double) outputs.get("anomaly")[index], model.pipeline().version(),
                    size});
        }

        @Override
        public void failed(DynamicBatcher.Job job, ReadingError error) {
            failed.computeIfAbsent(error.code(), c -> new AtomicInteger()).incrementAndGet();
        }

        private void awaitGate() {
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private static DynamicBatcher.Job job(InferencePipeline p, String device, double[] raw, Object ctx)
            throws ReadingError {
        return new DynamicBatcher.Job(device, raw, p.prepare(raw), p, System.nanoTime(), ctx);
    }

    @Test
    void batchedResultsMatchTheNumpyVectorsAndBatchesFillUp() throws Exception {
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        Recorder r = new Recorder();
        LoadedModel m = DemoModels.load("vibration-v1", "demo/vibration", 1);
        try (DynamicBatcher b = new DynamicBatcher("demo/vibration", m, new DynamicBatcher.Settings(32, 50_000, 1024,
                1024), r, new InferenceMetrics())) {
            for (int i = 0; i < 64; i++) {
                assertTrue(b.offer(job(m.pipeline(), "s" + (i % 4), DemoModels.row(v.get("features"), i), i)));
            }
            assertTrue(b.drain(10, TimeUnit.SECONDS));
        }
        assertEquals(64, r.done.size());
        for (Object[] d : r.done) {
            assertEquals(v.get("anomaly").get((Integer) d[0]).asDouble(), (Double) d[1], 1e-5);
        }
        assertTrue(r.done.stream().mapToInt(d -> (Integer) d[3]).max().orElse(0) > 1, "some batch held > 1 row");
    }

    @Test
    void aChattySensorCannotStarveTheOthersAndIsShedFirst() throws Exception {
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        Recorder r = new Recorder();
        r.gate = new CountDownLatch(1);
        InferenceMetrics metrics = new InferenceMetrics();
        LoadedModel m = DemoModels.load("vibration-v1", "demo/vibration", 1);
        try (DynamicBatcher b = new DynamicBatcher("demo/vibration", m, new DynamicBatcher.Settings(4, 0, 200, 50), r,
                metrics)) {
            double[] row = DemoModels.row(v.get("features"), 0);
            // the worker is held inside its first batch; everything else queues
            assertTrue(b.offer(job(m.pipeline(), "chatty", row, -1)));
            Thread.sleep(100); // let the worker take that first batch (ordering, not timing of the subject)
            int accepted = 0;
            int shed = 0;
            for (int i = 0; i < 100; i++) {
                if (b.offer(job(m.pipeline(), "chatty", row, i))) {
                    accepted++;
                } else {
                    shed++;
                }
            }
            assertEquals(50, accepted);
            assertEquals(50, shed);
            for (String quiet : List.of("q1", "q2", "q3")) {
                assertTrue(b.offer(job(m.pipeline(), quiet, row, quiet)), quiet + " is not shed");
            }
            r.gate.countDown();
            assertTrue(b.drain(10, TimeUnit.SECONDS));
        }
        // after the held batch, the quiet sensors are in the very next batch of 4, not behind 50 chatty readings
        List<String> order = new ArrayList<>(r.order);
        for (String quiet : List.of("q1", "q2", "q3")) {
            assertTrue(order.indexOf(quiet) <= 4, quiet + " served at position " + order.indexOf(quiet));
        }
    }

    @Test
    void theModelQueueIsBoundedAcrossDevices() throws Exception {
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        Recorder r = new Recorder();
        r.gate = new CountDownLatch(1);
        LoadedModel m = DemoModels.load("vibration-v1", "demo/vibration", 1);
        try (DynamicBatcher b = new DynamicBatcher("demo/vibration", m, new DynamicBatcher.Settings(1, 0, 10, 10), r,
                new InferenceMetrics())) {
            double[] row = DemoModels.row(v.get("features"), 0);
            assertTrue(b.offer(job(m.pipeline(), "d-first", row, 0)));
            Thread.sleep(100);
            int accepted = 0;
            for (int i = 0; i < 30; i++) {
                accepted += b.offer(job(m.pipeline(), "d" + i, row, i)) ? 1 : 0;
            }
            assertEquals(10, accepted);
            assertEquals(10, b.depth());
            r.gate.countDown();
            assertTrue(b.drain(10, TimeUnit.SECONDS));
            assertEquals(11, r.done.size());
        }
    }

    @Test
    void hotSwapUnderLoadDropsNothingAndServesLaterReadingsWithTheNewRelease() throws Exception {
        JsonNode vec = DemoModels.vectors("vibration");
        Recorder r = new Recorder();
        LoadedModel v1 = DemoModels.load("vibration-v1", "demo/vibration", 1);
        LoadedModel v2 = DemoModels.load("vibration-v2", "demo/vibration", 2);
        int total = 20_000;
        try (DynamicBatcher b = new DynamicBatcher("demo/vibration", v1, new DynamicBatcher.Settings(32, 200,
                100_000, 100_000), r, new InferenceMetrics())) {
            Thread producer = new Thread(() -> {
                try {
                    for (int i = 0; i < total; i++) {
                        LoadedModel current = b.model();
                        int idx = i % 64;
                        String which = current.pipeline().version() == 1 ? "v1" : "v2";
                        double[] raw = DemoModels.row(vec.get(which).get("features"), idx);
                        while (!b.offer(job(current.pipeline(), "s" + (i % 10), raw, idx))) {
                            Thread.onSpinWait();
                        }
                    }
                } catch (ReadingError e) {
                    throw new IllegalStateException(e);
                }
            });
            producer.start();
            while (r.done.size() < total / 4) {
                Thread.sleep(1);
            }
            b.swap(v2);
            producer.join();
            assertTrue(b.drain(30, TimeUnit.SECONDS));
        }
        assertEquals(total, r.done.size(), "every reading answered");
        assertTrue(r.failed.isEmpty(), "no failures: " + r.failed);
        long onV2 = r.done.stream().filter(d -> (Long) d[2] == 2).count();
        assertTrue(onV2 > 0 && onV2 < total, "both releases served: v2 " + onV2);
        // results served by v2 are v2's numbers for the same raw features; results by v1, v1's
        boolean seenV2 = false;
        for (Object[] d : r.done) {
            long version = (Long) d[2];
            seenV2 |= version == 2;
            assertFalse(seenV2 && version == 1, "no reading served by v1 after the swap");
        }
    }

    @Test
    void concurrentProducersEachReadingRunsOnceInOrderPerDeviceAndTheBoundsHold() throws Exception {
        JsonNode v = DemoModels.vectors("vibration").get("v1");
        Recorder r = new Recorder();
        LoadedModel m = DemoModels.load("vibration-v1", "demo/vibration", 1);
        int producers = 4;
        int devicesEach = 25;
        int perDevice = 200;
        int perDeviceQueue = 8;
        AtomicInteger shed = new AtomicInteger();
        List<Integer> depths = Collections.synchronizedList(new ArrayList<>());
        try (DynamicBatcher b = new DynamicBatcher("demo/vibration", m, new DynamicBatcher.Settings(32, 100, 256,
                perDeviceQueue), r, new InferenceMetrics())) {
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int first = p * devicesEach;
                threads.add(new Thread(() -> {
                    try {
                        for (int i = 0; i < perDevice; i++) {
                            for (int d = first; d < first + devicesEach; d++) {
                                double[] raw = DemoModels.row(v.get("features"), (d + i) % 64);
                                // a refused reading is offered again: each device's readings stay in order
                                while (!b.offer(job(m.pipeline(), "d" + d, raw, "d" + d + ":" + i))) {
                                    shed.incrementAndGet();
                                    Thread.onSpinWait();
                                }
                            }
                            depths.add(b.depth());
                        }
                    } catch (ReadingError e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(b.drain(30, TimeUnit.SECONDS));
            assertTrue(b.idle());
            assertEquals(0, b.depth());
        }
        int total = producers * devicesEach * perDevice;
        assertEquals(total, r.done.size(), "every reading ran exactly once");
        assertTrue(depths.stream().allMatch(d -> d <= 256), "the model bound held: " + Collections.max(depths));
        Map<String, Integer> next = new java.util.HashMap<>();
        for (Object[] d : r.done) {
            String[] ctx = ((String) d[0]).split(":");
            int expected = next.getOrDefault(ctx[0], 0);
            assertEquals(expected, Integer.parseInt(ctx[1]), "readings of " + ctx[0] + " run in the order offered");
            next.put(ctx[0], expected + 1);
        }
        assertEquals(producers * devicesEach, next.size());
    }
}
