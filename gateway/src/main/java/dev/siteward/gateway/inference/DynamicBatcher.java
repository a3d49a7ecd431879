package dev.siteward.gateway.inference;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dynamic batcher of one model: readings wait in per-device queues and one worker thread runs them through ONNX
 * Runtime in batches of at most {@code maxBatch} rows, as soon as a batch is full or the oldest reading has waited
 * {@code maxDelayMicros}. Batches are filled round-robin across devices (one reading per device per turn), so a
 * chatty sensor cannot starve the others; a device may have at most {@code perDevice} readings waiting and the model
 * at most {@code capacity}: beyond either, {@link #offer} refuses (the caller reports {@code shed}).
 *
 * <p>Producers only append to one inbox (under a short lock) and count what they offered per device; the per-device
 * queues and the round-robin turn belong to the worker alone, which moves the inbox into them once per batch. So the
 * threads that offer readings and the worker do not write the same queue structures for every reading (on two cores
 * that traffic cost the worker about a fifth of its time per batch of 32). The worker publishes what it has taken
 * per device, which is what the bounds are checked against.
 *
 * <p>Hot swap: {@link #swap} hands over a new release; the worker switches between two batches, so readings already
 * queued are served by the new release (re-prepared with its pipeline) and none is dropped; the old session is
 * closed once its last batch is done.
 */
public final class DynamicBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DynamicBatcher.class);
    static final long YIELD_MICROS = 200;
    /** Devices remembered (two counts each) before an idle worker forgets them. */
    private static final int FORGET_DEVICES = 1024;
    private static final VarHandle TAKEN;
    private static final VarHandle TAKEN_TOTAL;

    static {
        try {
            TAKEN = MethodHandles.lookup().findVarHandle(Device.class, "taken", int.class);
            TAKEN_TOTAL = MethodHandles.lookup().findVarHandle(DynamicBatcher.class, "takenTotal", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Batching limits. */
    public record Settings(int maxBatch, long maxDelayMicros, int capacity, int perDevice) {
        public Settings {
            if (maxBatch < 1 || maxDelayMicros < 0 || capacity < 1 || perDevice < 1) {
                throw new IllegalArgumentException("batch, capacity and per-device limits must be positive");
            }
        }
    }

    /** Receives each reading's outcome on the worker thread (in reading order per device). */
    public interface Sink {
        /** The batch's outputs; this reading's row is {@code index} of {@code size}. */
        void completed(Job job, LoadedModel model, Map<String, float[]> outputs, int index, int size);

        /** The reading could not be run (re-preparation for a swapped-in release, or a runtime failure). */
        void failed(Job job, ReadingError error);
    }

    /** One queued reading: its raw features, the row prepared by {@code preparedBy}, and its reply context. */
    public static final class Job {
        final String device;
        final double[] raw;
        float[] row;
        InferencePipeline preparedBy;
        final long arrivedNanos;
        final Object context;
        Device slot;

        public Job(String device, double[] raw, float[] row, InferencePipeline preparedBy, long arrivedNanos,
                   Object context) {
            this.device = device;
            this.raw = raw;
            this.row = row;
            this.preparedBy = preparedBy;
            this.arrivedNanos = arrivedNanos;
            this.context = context;
        }

        public String device() {
            return device;
        }

        public long arrivedNanos() {
            return arrivedNanos;
        }

        public Object context() {
            return context;
        }
    }

    /** What the producers write for a device: readings offered (under the lock). */
    static class DeviceOffers {
        int offered;
    }

    /** Keeps the worker's fields of a device off the cache line the producers write. */
    @SuppressWarnings("unused")
    static class DevicePadding extends DeviceOffers {
        long p1;
        long p2;
        long p3;
        long p4;
        long p5;
        long p6;
        long p7;
        long p8;
    }

    /** A device with readings offered: the producers' count, and the worker's count, queue and place in the turn. */
    static final class Device extends DevicePadding {
        /** Readings the worker has taken into batches; written by the worker only (release), read by producers. */
        volatile int taken;
        final ArrayDeque<Job> queue = new ArrayDeque<>();
        boolean inTurn;
    }

    private final String name;
    private final Settings settings;
    private final Sink sink;
    private final InferenceMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final Condition idle = lock.newCondition();
    // under the lock: the producers' side
    private final Map<String, Device> devices = new HashMap<>();
    private ArrayList<Job> inbox = new ArrayList<>();
    private long offeredTotal;
    private boolean running = true;
    private boolean busy;
    private LoadedModel current;
    private LoadedModel pending;
    /** Readings taken into batches; written by the worker only (release). */
    private volatile long takenTotal;
    // the worker's own: devices with readings queued, in round-robin order
    private final ArrayDeque<Device> turn = new ArrayDeque<>();
    private final Thread worker;
    private final BooleanSupplier mayRun;

    public DynamicBatcher(String name, LoadedModel model, Settings settings, Sink sink, InferenceMetrics metrics) {
        this(name, model, settings, sink, metrics, () -> true);
    }

    /**
     * A batcher whose worker runs a batch only while {@code mayRun} says so (shadow mode: only while the active
     * release's batcher is idle), re-checking every {@value #YIELD_MICROS} µs; meanwhile readings wait and the
     * queue bounds shed the excess.
     */
    public DynamicBatcher(String name, LoadedModel model, Settings settings, Sink sink, InferenceMetrics metrics,
                          BooleanSupplier mayRun) {
        this.mayRun = mayRun;
        this.name = name;
        this.current = model;
        this.settings = settings;
        this.sink = sink;
        this.metrics = metrics;
        metrics.queue(name, this::depth);
        this.worker = new Thread(this::work, "inference-" + name);
        worker.setDaemon(true);
        worker.start();
    }

    /** The release serving new readings (the pending one once a swap was requested). */
    public LoadedModel model() {
        lock.lock();
        try {
            return pending != null ? pending : current;
        } finally {
            lock.unlock();
        }
    }

    /** Queues a reading; {@code false} when the device's or the model's queue is full (shed). */
    public boolean offer(Job job) {
        lock.lock();
        try {
            if (!running || offeredTotal - takenTotal >= settings.capacity()) {
                return false;
            }
            Device d = devices.get(job.device);
            if (d == null) {
                d = new Device();
                devices.put(job.device, d);
            } else if (d.offered - d.taken >= settings.perDevice()) {
                return false;
            }
            d.offered++;
            job.slot = d;
            inbox.add(job);
            long queued = ++offeredTotal - takenTotal;
            if (queued >= settings.maxBatch() || queued == 1) {
                ready.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Whether nothing is queued or running. */
    public boolean idle() {
        lock.lock();
        try {
            return offeredTotal == takenTotal && !busy;
        } finally {
            lock.unlock();
        }
    }

    /** Readings waiting. */
    public int depth() {
        lock.lock();
        try {
            return (int) (offeredTotal - takenTotal);
        } finally {
            lock.unlock();
        }
    }

    /** Switches to a new release between two batches; queued readings are kept and served by it. */
    public void swap(LoadedModel next) {
        LoadedModel replaced;
        lock.lock();
        try {
            replaced = pending;
            pending = next;
            ready.signal();
        } finally {
            lock.unlock();
        }
        if (replaced != null) {
            replaced.close();
        }
    }

    /** Waits until every queued reading has been run (tests and orderly shutdown). */
    public boolean drain(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
            while (offeredTotal != takenTotal || busy) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                idle.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        List<Job> batch = new ArrayList<>(settings.maxBatch());
        ArrayList<Job> arrivals = new ArrayList<>();
        float[] rows = null;
        while (true) {
            LoadedModel model;
            lock.lock();
            try {
                busy = false;
                if (offeredTotal == takenTotal) {
                    idle.signalAll();
                    if (devices.size() > FORGET_DEVICES) {
                        // nothing queued anywhere: every device's offers are taken, so their counts may go
                        devices.clear();
                    }
                }
                try {
                    long queued;
                    while (running && !((queued = offeredTotal - takenTotal) >= settings.maxBatch()
                            || (queued > 0 && waitedEnough()))) {
                        if (pending != null && queued == 0) {
                            break;
                        }
                        if (queued == 0) {
                            ready.await();
                        } else {
                            ready.awaitNanos(Math.max(1, settings.maxDelayMicros() * 1000
                                    - (System.nanoTime() - oldest())));
                        }
                    }
                } catch (InterruptedException e) {
                    running = false;
                }
                if (pending != null) {
                    LoadedModel old = current;
                    current = pending;
                    pending = null;
                    old.close();
                    metrics.swapped();
                }
                if (!running && offeredTotal == takenTotal) {
                    return;
                }
                if (running && !mayRun.getAsBoolean()) {
                    try {
                        ready.awaitNanos(YIELD_MICROS * 1000);
                    } catch (InterruptedException e) {
                        running = false;
                    }
                    continue;
                }
                ArrayList<Job> arrived = inbox;
                inbox = arrivals;
                arrivals = arrived;
                busy = offeredTotal != takenTotal;
                model = current;
            } finally {
                lock.unlock();
            }
            for (Job job : arrivals) {
                Device d = job.slot;
                if (!d.inTurn) {
                    d.inTurn = true;
                    turn.addLast(d);
                }
                d.queue.addLast(job);
            }
            arrivals.clear();
            take(batch);
            if (batch.isEmpty()) {
                continue;
            }
            rows = run(model, batch, rows);
            batch.clear();
        }
    }

    private boolean waitedEnough() {
        return System.nanoTime() - oldest() >= settings.maxDelayMicros() * 1000;
    }

    /** Arrival of the oldest reading waiting (worker thread, under the lock: the inbox is the producers'). */
    private long oldest() {
        long t = inbox.isEmpty() ? Long.MAX_VALUE : inbox.get(0).arrivedNanos;
        for (Device d : turn) {
            t = Math.min(t, d.queue.peekFirst().arrivedNanos);
        }
        return t;
    }

    /** Takes up to maxBatch readings, one per device per turn, and publishes what was taken (worker thread). */
    private void take(List<Job> batch) {
        while (batch.size() < settings.maxBatch() && !turn.isEmpty()) {
            Device d = turn.pollFirst();
            batch.add(d.queue.pollFirst());
            TAKEN.setRelease(d, d.taken + 1);
            if (d.queue.isEmpty()) {
                d.inTurn = false;
            } else {
                turn.addLast(d);
            }
        }
        TAKEN_TOTAL.setRelease(this, takenTotal + batch.size());
    }

    private float[] run(LoadedModel model, List<Job> batch, float[] rows) {
        InferencePipeline pipeline = model.pipeline();
        int width = pipeline.features();
        List<Job> runnable = new ArrayList<>(batch.size());
        for (Job job : batch) {
            if (job.preparedBy != pipeline) {
                try {
                    job.row = pipeline.prepare(job.raw);
                    job.preparedBy = pipeline;
                } catch (ReadingError e) {
                    sink.failed(job, e);
                    continue;
                }
            }
            runnable.add(job);
        }
        if (runnable.isEmpty()) {
            return rows;
        }
        if (rows == null || rows.length < runnable.size() * width) {
            rows = new float[settings.maxBatch() * width];
        }
        for (int i = 0; i < runnable.size(); i++) {
            System.arraycopy(runnable.get(i).row, 0, rows, i * width, width);
        }
        Map<String, float[]> out;
        try {
            out = model.onnx().run(rows, runnable.size());
        } catch (Exception e) {
            LOG.warn("inference on {} version {} failed for a batch of {}: {}", pipeline.model(), pipeline.version(),
                    runnable.size(), e.toString());
            for (Job job : runnable) {
                sink.failed(job, new ReadingError(ReadingError.INFERENCE_FAILED, "the model failed on this batch"));
            }
            return rows;
        }
        metrics.batch(name, runnable.size());
        for (int i = 0; i < runnable.size(); i++) {
            try {
                sink.completed(runnable.get(i), model, out, i, runnable.size());
            } catch (RuntimeException e) {
                LOG.warn("delivering a result of {} failed: {}", pipeline.model(), e.toString());
            }
        }
        return rows;
    }

    /** Stops the worker after the queued readings have been run, and closes the sessions. */
    @Override
    public void close() {
        lock.lock();
        try {
            running = false;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            worker.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            current.close();
            if (pending != null) {
                pending.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
