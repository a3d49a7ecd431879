package dev.siteward.gateway.inference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.retention.DataRecords;
import dev.siteward.policies.retention.DataClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores what inference saw and answered under the retention rules (docs/inference.md, "Stored under retention"):
 * each served reading as a {@code sensor-readings} record and its result as an {@code inference-results} record,
 * through {@link DataRecords#storeGenerated} (declared fields only, minimised before anything is written, deny by
 * default). The batcher thread only puts them in a bounded queue; one writer thread stores up to
 * {@code batch} of them per database transaction. When the queue is full the record is dropped and counted: storing
 * never slows or blocks inference.
 */
public final class InferenceRecords implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceRecords.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DataClass[] CLASSES = {DataClass.SENSOR_READINGS, DataClass.INFERENCE_RESULTS};

    private final DataRecords records;
    private final BlockingQueue<DataRecords.Generated> queue;
    private final int batch;
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLongArray stored = new AtomicLongArray(CLASSES.length);
    private final AtomicLongArray skipped = new AtomicLongArray(CLASSES.length);
    private final Object idle = new Object();
    private volatile boolean running = true;
    private int inFlight;

    public InferenceRecords(DataRecords records, int capacity, int batch) {
        if (capacity < 1 || batch < 1) {
            throw new IllegalArgumentException("store queue and batch must be positive");
        }
        this.records = records;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.batch = batch;
        this.writer = new Thread(this::work, "inference-store");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Queues a served reading and its result (called on the batcher thread; never blocks). Classes without a rule
     * in the active bundle are left out here already.
     */
    public void served(String device, InferenceService.Reading reading, InferenceService.Result result,
                       Double score) {
        if (records.retains(DataClass.SENSOR_READINGS)) {
            ObjectNode r = JSON.createObjectNode();
            r.put("seq", reading.seq());
            if (reading.ts() != null) {
                r.put("ts", reading.ts());
            }
            var features = r.putArray("features");
            for (double f : reading.features()) {
                features.add(f);
            }
            r.put("model", result.model());
            offer(new DataRecords.Generated(DataClass.SENSOR_READINGS, device, r));
        }
        if (records.retains(DataClass.INFERENCE_RESULTS)) {
            ObjectNode r = JSON.createObjectNode();
            Map<String, Object> m = result.toMap();
            r.put("seq", result.seq());
            r.put("model", result.model());
            r.put("version", result.version());
            r.set("outputs", JSON.valueToTree(m.get("outputs")));
            if (score != null) {
                r.put("score", score);
            }
            if (result.decision() == null) {
                r.putNull("decision");
            } else {
                r.put("decision", result.decision());
            }
            r.put("latency_ms", (Double) m.get("latency_ms"));
            offer(new DataRecords.Generated(DataClass.INFERENCE_RESULTS, device, r));
        }
    }

    private void offer(DataRecords.Generated g) {
        if (!running || !queue.offer(g)) {
            dropped.incrementAndGet();
        }
    }

    private void work() {
        List<DataRecords.Generated> items = new ArrayList<>(batch);
        while (running || !queue.isEmpty()) {
            try {
                DataRecords.Generated first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    synchronized (idle) {
                        idle.notifyAll();
                    }
                    continue;
                }
                synchronized (idle) {
                    inFlight = 1;
                }
                items.add(first);
                queue.drainTo(items, batch - 1);
                write(items);
            } catch (InterruptedException e) {
                running = false;
            } finally {
                items.clear();
                synchronized (idle) {
                    inFlight = 0;
                    idle.notifyAll();
                }
            }
        }
    }

    private void write(List<DataRecords.Generated> items) {
        try {
            DataRecords.GeneratedStored s = records.storeGenerated(items);
            for (int i = 0; i < CLASSES.length; i++) {
                stored.addAndGet(i, s.stored().getOrDefault(CLASSES[i], 0));
                skipped.addAndGet(i, s.skipped().getOrDefault(CLASSES[i], 0));
            }
        } catch (Exception e) {
            failed.addAndGet(items.size());
            LOG.warn("inference: storing {} records failed: {}", items.size(), e.toString());
        }
    }

    /** Waits until the queue is empty and nothing is being written (tests and orderly shutdown). */
    public boolean drain(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (idle) {
            while (!queue.isEmpty() || inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                idle.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
        return true;
    }

    /** Records dropped because the queue was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Records stored of a class. */
    public long stored(DataClass c) {
        for (int i = 0; i < CLASSES.length; i++) {
            if (CLASSES[i] == c) {
                return stored.get(i);
            }
        }
        return 0;
    }

    /** Prometheus text of the store counters. */
    public String prometheus() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP siteward_inference_stored_total Readings and results stored under the retention rules.\n");
        b.append("# TYPE siteward_inference_stored_total counter\n");
        for (int i = 0; i < CLASSES.length; i++) {
            b.append("siteward_inference_stored_total{class=\"").append(CLASSES[i].id()).append("\"} ")
                    .append(stored.get(i)).append('\n');
        }
        b.append("# HELP siteward_inference_store_skipped_total Records not stored: no declared field, too large, "
                + "or the rule went away while queued.\n");
        b.append("# TYPE siteward_inference_store_skipped_total counter\n");
        for (int i = 0; i < CLASSES.length; i++) {
            b.append("siteward_inference_store_skipped_total{class=\"").append(CLASSES[i].id()).append("\"} ")
                    .append(skipped.get(i)).append('\n');
        }
        b.append("# HELP siteward_inference_store_dropped_total Records dropped because the store queue was full.\n");
        b.append("# TYPE siteward_inference_store_dropped_total counter\n");
        b.append("siteward_inference_store_dropped_total ").append(dropped.get()).append('\n');
        b.append("# HELP siteward_inference_store_failed_total Records lost to a failed database write.\n");
        b.append("# TYPE siteward_inference_store_failed_total counter\n");
        b.append("siteward_inference_store_failed_total ").append(failed.get()).append('\n');
        return b.toString();
    }

    /** Stores what is queued (up to 10 s), then stops the writer. */
    @Override
    public void close() {
        try {
            if (!drain(10, TimeUnit.SECONDS)) {
                LOG.warn("inference: {} records still queued after 10 s at shutdown are not stored", queue.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        try {
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
