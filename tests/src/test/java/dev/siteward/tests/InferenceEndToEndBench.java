package dev.siteward.tests;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.pki.tls.NoDelaySocketFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.TimerPingSender;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Shared inference end to end (docs/benchmarks.md, "Shared inference end to end: 1,000 sensors over MQTT"): the
 * packaged gateway with its embedded broker, {@code bench.sensors} (default 1,000) devices enrolled through the real
 * gateway (admin-API tokens + EST with the device SDK), each its own Paho MQTT 5 connection over mTLS with its own
 * certificate, publishing QoS 1 readings for the signed demo vibration model released to their class.
 *
 * <p>In one run: the gateway in relay mode ({@code siteward.inference.relay: true}, the same broker, clients and
 * reply path, no model) and then in inference mode, each with the sustained readings/s at which every reading is
 * answered (searched in {@code bench.step.seconds} steps), p50/p99 reading-to-result latency at half that rate,
 * measured at the sensor; then the inference gateway's RSS idle and under load, and its RSS and NMT-committed
 * native memory sampled every 30 s over {@code bench.memory.minutes} (default 10) at half the sustained rate.
 * Run: {@code mvn -B -q -pl tests -am -Pbench-inference-e2e verify}.
 */
public final class InferenceEndToEndBench {

    private static final int SENSORS = Integer.getInteger("bench.sensors", 1000);
    private static final double STEP_SECONDS = Double.parseDouble(System.getProperty("bench.step.seconds", "10"));
    private static final double LATENCY_SECONDS = Double.parseDouble(System.getProperty("bench.latency.seconds",
            "20"));
    private static final double MEMORY_MINUTES = Double.parseDouble(System.getProperty("bench.memory.minutes", "10"));
    private static final double START_RATE = Double.parseDouble(System.getProperty("bench.start.rate", "500"));
    private static final int REFINE_STEPS = Integer.getInteger("bench.refine.steps", 3);
    /** The sensors' MQTT client: {@code hivemq} (event loops, the default) or {@code paho} (three threads each). */
    private static final String CLIENT = System.getProperty("bench.client", "hivemq");
    /**
     * {@code true}: the load generator (this process) runs on CPU 0 and each gateway on CPU 1 ({@code taskset}), as if
     * the sensors were on another host; the default shares both CPUs between them.
     */
    private static final boolean PIN = Boolean.getBoolean("bench.pin");
    /**
     * The committed demo model served: {@code vibration-demo} (the detector {@code siteward demo} serves: readings
     * from the reference law are normal) or {@code vibration-v1} (random weights: about half of such readings score
     * above the threshold, so every sensor's k-of-n window keeps starting alarms — an audited action storm).
     */
    private static final String MODEL = System.getProperty("bench.model", "vibration-demo");
    /** With a rate here, no search and no memory run: warm-up, then latency at this rate for both gateways. */
    private static final double FIXED_RATE = Double.parseDouble(System.getProperty("bench.latency.rate", "0"));
    private static final double WARM_UP_SECONDS = Double.parseDouble(System.getProperty("bench.warmup.seconds",
            "20"));
    private static final double SAMPLE_SECONDS = Double.parseDouble(System.getProperty("bench.sample.seconds", "30"));
    /**
     * A step is sustained when nothing is lost, its last answer came within this long of its last publish and its
     * p99 latency is under it too (a backlog that grows through the step is not sustained).
     */
    private static final long KEEP_UP_NANOS = Long.getLong("bench.keepup.ms", 1000) * 1_000_000L;
    private static final Pattern SEQ = Pattern.compile("\"seq\"\\s*:\\s*(\\d+)");
    private static final Pattern CODE = Pattern.compile("\"code\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern NMT_HEAP = Pattern.compile("Java Heap \\(reserved=(\\d+)KB, committed=(\\d+)KB");

    private InferenceEndToEndBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("inference-e2e-bench");
        List<String> table = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        notes.add("start " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ", load " + load());
        Path data = work.resolve("data");
        Map<String, String> env = Map.of("SITEWARD_INFERENCE_PER_DEVICE_QUEUE", "64");
        // enrollment of 1,000 devices from one address: lift the enrollment listener's per-source limit
        List<String> common = new ArrayList<>(List.of("-XX:NativeMemoryTracking=summary",
                "-Dsiteward.enroll-rate-per-second=10000", "-Dsiteward.enroll-burst=10000"));
        // extra JVM options for both gateways, e.g. -Dbench.gateway.jvm="-Xlog:gc:file=/tmp/gw-gc-%p.log"
        for (String o : System.getProperty("bench.gateway.jvm", "").trim().split("\\s+")) {
            if (!o.isEmpty()) {
                common.add(o);
            }
        }
        List<DeviceIdentity> devices;
        Step relayStep;
        Step relayLatency;
        // 1) relay: the same broker, clients and reply path, no model
        List<String> relayArgs = new ArrayList<>(common);
        relayArgs.add("-Dsiteward.inference.relay=true");
        pin(ProcessHandle.current().pid(), "0", notes);
        try (GatewayProcess gateway = GatewayProcess.start(data, env, relayArgs)) {
            pin(gateway.pid(), "1", notes);
            releaseModel(gateway, work);
            long t0 = System.nanoTime();
            devices = enrollAll(gateway, work);
            notes.add(String.format(Locale.ROOT, "enrolled %d devices (admin-API token + EST, SDK) in %.1f s",
                    devices.size(), (System.nanoTime() - t0) / 1e9));
            try (Fleet fleet = Fleet.connect(gateway.mqttPort(), devices, notes, "relay")) {
                relayStep = FIXED_RATE > 0 ? warmUp(fleet) : search(fleet, "relay");
                relayLatency = fleet.run(relayStep.offered / 2, LATENCY_SECONDS);
                System.out.println("relay latency at " + relayLatency);
            }
        }
        // 2) inference: the gateway restarted in the same data dir (same devices, release and broker settings)
        Step inferStep;
        Step inferLatency;
        List<Sample> samples = new ArrayList<>();
        long rssStart;
        long rssIdle;
        try (GatewayProcess gateway = GatewayProcess.start(data, env, common)) {
            long pid = gateway.pid();
            pin(pid, "1", notes);
            rssStart = rssKb(pid);
            try (Fleet fleet = Fleet.connect(gateway.mqttPort(), devices, notes, "inference")) {
                fleet.run(100, 3); // every sensor's model resolved and loaded
                Thread.sleep(5_000);
                rssIdle = rssKb(pid);
                inferStep = FIXED_RATE > 0 ? warmUp(fleet) : search(fleet, "inference");
                inferLatency = fleet.run(inferStep.offered / 2, LATENCY_SECONDS);
                System.out.println("inference latency at " + inferLatency);
                if (FIXED_RATE > 0) {
                    System.out.println("relay slowest windows: " + relayLatency.slowest);
                    System.out.println("inference slowest windows: " + inferLatency.slowest);
                    System.out.println("fixed-rate latency (bench.latency.rate): relay " + relayLatency
                            + " | inference " + inferLatency);
                    return;
                }
                // 3) memory over a long loaded run at half the sustained rate
                double rate = inferStep.offered / 2;
                long end = System.nanoTime() + (long) (MEMORY_MINUTES * 60e9);
                samples.add(sample(pid, 0));
                long begin = System.nanoTime();
                List<Step> memorySteps = new ArrayList<>();
                while (System.nanoTime() < end) {
                    double secs = Math.min(SAMPLE_SECONDS, Math.max(1, (end - System.nanoTime()) / 1e9));
                    memorySteps.add(fleet.run(rate, secs));
                    samples.add(sample(pid, (System.nanoTime() - begin) / 60e9));
                    Sample s = samples.get(samples.size() - 1);
                    System.out.printf(Locale.ROOT, "memory t=%.1f min rss=%d MiB nmt=%d MiB heap=%d MiB load %s%n",
                            s.minutes, s.rssKb / 1024, s.nmtCommittedKb / 1024, s.heapCommittedKb / 1024, load());
                }
                long sent = memorySteps.stream().mapToLong(s -> s.sent).sum();
                long lost = memorySteps.stream().mapToLong(s -> s.lost()).sum();
                notes.add(String.format(Locale.ROOT, "memory run: %.1f min at %.0f readings/s, %d readings, %d lost",
                        (System.nanoTime() - begin) / 60e9, rate, sent, lost));
            }
        }
        notes.add("end " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ", load " + load());

        table.add("| figure | inference | relay | inference / relay | target |");
        table.add("|---|---|---|---|---|");
        table.add(String.format(Locale.ROOT, "| sustained readings/s, nothing lost (%d sensors, QoS 1) | %.0f | %.0f | "
                + "%.0f%% | ≥ 50%% |", SENSORS, inferStep.answeredRate(), relayStep.answeredRate(),
                100 * inferStep.answeredRate() / relayStep.answeredRate()));
        table.add(String.format(Locale.ROOT, "| latency at half that rate (%.0f / %.0f readings/s), p50 | %.2f ms | "
                + "%.2f ms | %.2f | — |", inferLatency.offered, relayLatency.offered, inferLatency.p(0.50),
                relayLatency.p(0.50), inferLatency.p(0.50) / relayLatency.p(0.50)));
        table.add(String.format(Locale.ROOT, "| latency p99 | %.2f ms | %.2f ms | %.2f | p99 ≤ 5 ms |",
                inferLatency.p(0.99), relayLatency.p(0.99), inferLatency.p(0.99) / relayLatency.p(0.99)));
        table.add(String.format(Locale.ROOT, "| latency p99.9 / max | %.2f / %.2f ms | %.2f / %.2f ms | — | — |",
                inferLatency.p(0.999), inferLatency.p(1), relayLatency.p(0.999), relayLatency.p(1)));
        table.add(String.format(Locale.ROOT, "| lost in the latency runs | %d of %d | %d of %d | — | 0 |",
                inferLatency.lost(), inferLatency.sent, relayLatency.lost(), relayLatency.sent));
        long rssMax = samples.stream().mapToLong(s -> s.rssKb).max().orElse(0);
        table.add(String.format(Locale.ROOT, "| gateway RSS: after start / idle with %d sensors connected and the model "
                + "loaded / max loaded | %d / %d / %d MiB | — | — | — |", SENSORS, rssStart / 1024, rssIdle / 1024,
                rssMax / 1024));
        table.add(row("RSS", samples, Sample::rssKb));
        table.add(row("NMT committed, total", samples, Sample::nmtCommittedKb));
        table.add(row("NMT committed, Java heap", samples, Sample::heapCommittedKb));
        table.add(row("NMT committed without the Java heap (native)", samples, Sample::nonHeapKb));

        System.out.println("== Shared inference end to end: " + SENSORS + " sensors over MQTT 5 + mTLS, QoS 1");
        notes.forEach(n -> System.out.println("# " + n));
        System.out.println("relay search:     " + relayStep.history);
        System.out.println("inference search: " + inferStep.history);
        table.forEach(System.out::println);
        System.out.println("memory samples (min, RSS MiB, NMT committed MiB, of which Java heap MiB):");
        for (Sample s : samples) {
            System.out.printf(Locale.ROOT, "  %.1f %d %d %d%n", s.minutes, s.rssKb / 1024, s.nmtCommittedKb / 1024,
                    s.heapCommittedKb / 1024);
        }
        if (!Boolean.getBoolean("bench.keep")) {
            deleteTree(work);
        } else {
            System.out.println("kept " + work);
        }
    }

    private static String row(String what, List<Sample> samples, java.util.function.ToLongFunction<Sample> kb) {
        Sample first = samples.get(0);
        Sample last = samples.get(samples.size() - 1);
        return String.format(Locale.ROOT, "| %s over %.1f min loaded: start / end / max, slope | %d / %d / %d MiB, "
                + "%+.2f MiB/min | — | — | flat |", what, last.minutes, kb.applyAsLong(first) / 1024,
                kb.applyAsLong(last) / 1024, samples.stream().mapToLong(kb).max().orElse(0) / 1024, slope(samples, kb));
    }

    /** Keygen, publisher trust, sign + publish {@code bench.model} as demo/vibration, release it to class sensor. */
    static void releaseModel(GatewayProcess gateway, Path work) throws Exception {
        check(Processes.run(work, Map.of(), Processes.siteward("model", "keygen", "--out",
                work.resolve("demo").toString(), "--name", "demo")));
        check(gateway.cli("publisher", "add", "demo-team", "--roots", work.resolve("demo/publisher-cert.pem")
                .toString(), "--models", "demo/*"));
        Path model = Files.createDirectories(work.resolve(MODEL));
        for (String f : List.of("model.onnx", "siteward-model.yaml")) {
            Files.copy(InferenceIT.demo().resolve(MODEL).resolve(f), model.resolve(f));
        }
        Path sig = work.resolve(MODEL + ".sig");
        check(Processes.run(work, Map.of(), Processes.siteward("model", "sign", model.toString(), "--key",
                work.resolve("demo/publisher-key.pem").toString(), "--cert-chain",
                work.resolve("demo/publisher-cert.pem").toString(), "--out", sig.toString())));
        check(gateway.cli("model", "publish", model.toString(), "--signature", sig.toString(), "--name",
                "demo/vibration", "--version", "1"));
        check(gateway.cli("model", "release", "demo/vibration", "--version", "1", "--channel", "stable",
                "--classes", "sensor"));
    }

    /** Enrolls {@code SENSORS} devices with the SDK (token from the admin API, EST enrollment), four at a time. */
    static List<DeviceIdentity> enrollAll(GatewayProcess gateway, Path work) throws Exception {
        String fingerprint = gateway.rootFingerprint(); // once: it runs the CLI
        java.time.Clock clock = java.time.Clock.systemUTC();
        dev.siteward.device.RetryPolicy retry = new dev.siteward.device.RetryPolicy(new dev.siteward.device.Backoff(
                java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(1), new Random()), 3,
                d -> Thread.sleep(d.toMillis()));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<DeviceIdentity>> f = new ArrayList<>();
            for (int i = 0; i < SENSORS; i++) {
                String id = String.format(Locale.ROOT, "sensor-%04d", i);
                f.add(pool.submit(() -> {
                    var dir = new dev.siteward.device.store.DeviceDirectory(work.resolve("devices").resolve(id));
                    return new dev.siteward.device.EnrollmentClient(clock, retry).enroll(
                            dev.siteward.device.EnrollmentRequest.of(gateway.enrollUrl().toString(),
                                    gateway.token(id, "class=sensor"), fingerprint),
                            dir, new dev.siteward.device.keys.Pkcs12DeviceKeyStore(dir.keysDir(), clock));
                }));
            }
            List<DeviceIdentity> out = new ArrayList<>();
            for (Future<DeviceIdentity> d : f) {
                out.add(d.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Finds the highest offered rate at which every reading is answered and the gateway keeps up: the rate grows by
     * half while steps pass, then is bisected {@code REFINE_STEPS} times between the last pass and the first fail.
     */
    /** With {@code bench.pin}: every thread of the process on the given CPUs (threads it starts later inherit it). */
    static void pin(long pid, String cpus, List<String> notes) throws Exception {
        if (!PIN) {
            return;
        }
        Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("taskset failed: " + out.strip());
        }
        notes.add("pid " + pid + " pinned to CPU " + cpus);
    }

    /** For {@code bench.latency.rate}: the search's warm-up; the step returned stands for "sustained at twice it". */
    static Step warmUp(Fleet fleet) throws Exception {
        fleet.run(Math.min(FIXED_RATE, 200), 5);
        fleet.run(FIXED_RATE, WARM_UP_SECONDS);
        return new Step(FIXED_RATE * 2, 0);
    }

    static Step search(Fleet fleet, String label) throws Exception {
        // warm-up, not counted: JIT, TLS, model, caches. Both gateways are fresh processes here (the inference one is
        // restarted just before its search), and a cold first step decided earlier searches on its own.
        fleet.run(Math.min(START_RATE, 200), 5);
        fleet.run(START_RATE, WARM_UP_SECONDS);
        StringBuilder history = new StringBuilder();
        Step best = null;
        double low = 0;
        double high = Double.POSITIVE_INFINITY;
        double rate = START_RATE;
        int refinements = 0;
        for (int i = 0; i < 30 && rate >= 10; i++) {
            Step s = fleet.run(rate, STEP_SECONDS);
            System.out.println(label + " step " + s);
            history.append(String.format(Locale.ROOT, "%.0f:%s ", rate, s.sustained() ? "ok" : "FAIL(" + s.why()
                    + ")"));
            if (s.sustained()) {
                best = s;
                low = rate;
            } else {
                high = rate;
            }
            if (high == Double.POSITIVE_INFINITY) {
                rate *= 1.5;
            } else if (low == 0) {
                rate /= 2;
            } else if (refinements++ >= REFINE_STEPS || high - low < low * 0.05) {
                break;
            } else {
                rate = (low + high) / 2;
            }
        }
        if (best == null) {
            throw new AssertionError(label + ": no offered rate was sustained: " + history);
        }
        best.history = history.toString().strip();
        return best;
    }

    /** One timed step: what was offered, sent, answered, refused, and the latencies of the answers. */
    static final class Step {
        final double offered;
        final double seconds;
        long sent;
        long answered;
        long errors;
        long publishFailed;
        long late;
        Map<String, Long> errorCodes = Map.of();
        double sentRate;
        long tailNanos;
        long[] latencies = new long[0];
        String history = "";
        /** The slowest 100-ms windows of the step (see {@code Fleet.slowest}). */
        String slowest = "";

        Step(double offered, double seconds) {
            this.offered = offered;
            this.seconds = seconds;
        }

        long lost() {
            return sent - answered;
        }

        double answeredRate() {
            return answered / seconds;
        }

        boolean sustained() {
            return lost() == 0 && publishFailed == 0 && sentRate >= offered * 0.97 && tailNanos <= KEEP_UP_NANOS
                    && p(0.99) * 1e6 <= KEEP_UP_NANOS;
        }

        String why() {
            if (lost() > 0) {
                return lost() + " lost" + (errorCodes.isEmpty() ? "" : " " + errorCodes);
            }
            if (publishFailed > 0) {
                return publishFailed + " publishes failed";
            }
            if (sentRate < offered * 0.97) {
                return String.format(Locale.ROOT, "sent only %.0f/s", sentRate);
            }
            if (tailNanos > KEEP_UP_NANOS) {
                return String.format(Locale.ROOT, "last answer %.1f s after last publish", tailNanos / 1e9);
            }
            return String.format(Locale.ROOT, "p99 %.0f ms", p(0.99));
        }

        /** Latency quantile in ms (1 = max). */
        double p(double q) {
            if (latencies.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1);
            return latencies[Math.max(0, i)] / 1e6;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.0f/s for %.0f s: sent %d (%.0f/s), answered %d, lost %d, errors %s, "
                    + "publish failed %d, late %d, tail %.0f ms, p50 %.2f ms p99 %.2f ms max %.1f ms, load %s", offered,
                    seconds, sent, sentRate, answered, lost(), errorCodes, publishFailed, late, tailNanos / 1e6, p(0.5),
                    p(0.99), p(1), load());
        }
    }

    /** The connected sensors and the paced publisher. */
    static final class Fleet implements AutoCloseable {
        final List<BenchSensor> sensors = new ArrayList<>();
        final ScheduledExecutorService pings = Executors.newScheduledThreadPool(2);
        final Random random = new Random(8);
        final byte[][] features;
        /** The current step: its readings are numbered from {@code base}; the arrays are indexed by seq - base. */
        record Window(long base, long[] sentAt, AtomicLongArray answeredAt) {
        }

        volatile Window window = new Window(Long.MAX_VALUE, new long[0], new AtomicLongArray(0));
        final AtomicLong errors = new AtomicLong();
        final AtomicLong late = new AtomicLong();
        final AtomicLong publishFailed = new AtomicLong();
        final Map<String, Long> codes = new ConcurrentHashMap<>();
        long nextSeq = 1;

        private Fleet() {
            // readings drawn from the model's reference law N(mean, std): the detector (vibration-demo) finds them
            // normal; 1,024 of them, so that each sensor cycles through 128 (round-robin over 1,000 sensors)
            features = new byte[1024][];
            double[] mean = {0, 0, 0, 0, 1, 1, 2, 2};
            double[] std = {1, 1, 2, 2, 0.5, 0.5, 1.5, 1.5};
            for (int i = 0; i < features.length; i++) {
                StringBuilder b = new StringBuilder("[");
                for (int j = 0; j < 8; j++) {
                    b.append(j == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.4f",
                            mean[j] + std[j] * random.nextGaussian()));
                }
                features[i] = b.append(']').toString().getBytes(StandardCharsets.UTF_8);
            }
        }

        static Fleet connect(int port, List<DeviceIdentity> devices, List<String> notes, String label)
                throws Exception {
            Fleet fleet = new Fleet();
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<BenchSensor>> f = new ArrayList<>();
                for (DeviceIdentity d : devices) {
                    f.add(pool.submit(() -> "paho".equals(CLIENT) ? new Sensor(fleet, port, d)
                            : new EventLoopSensor(fleet, port, d)));
                }
                for (Future<BenchSensor> s : f) {
                    fleet.sensors.add(s.get(120, TimeUnit.SECONDS));
                }
            } catch (Exception e) {
                fleet.close();
                throw e;
            } finally {
                pool.shutdownNow();
            }
            notes.add(String.format(Locale.ROOT, "%s: %d MQTT 5 connections (mTLS, own certificate each) "
                    + "connected and subscribed in %.1f s", label, fleet.sensors.size(), (System.nanoTime() - t0) / 1e9));
            return fleet;
        }

        /**
         * Publishes {@code rate} readings/s round-robin over the sensors for {@code seconds} (one pacing thread, Paho
         * publishes are asynchronous), then waits up to 10 s for the answers.
         */
        Step run(double rate, double seconds) throws Exception {
            int capacity = (int) Math.ceil(rate * seconds * 1.05) + 1_000;
            Step step = new Step(rate, seconds);
            long first = nextSeq;
            long[] sent = new long[capacity];
            AtomicLongArray answered = new AtomicLongArray(capacity);
            errors.set(0);
            late.set(0);
            publishFailed.set(0);
            codes.clear();
            window = new Window(first, sent, answered);
            String ts = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            long wallStart = System.currentTimeMillis();
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            int n = 0;
            long now;
            while ((now = System.nanoTime()) < end && n < capacity) {
                long due = (long) ((now - start) / 1e9 * rate) + 1;
                if (n >= due) {
                    LockSupport.parkNanos(50_000);
                    continue;
                }
                while (n < due && n < capacity) {
                    BenchSensor s = sensors.get((int) ((first + n) % sensors.size()));
                    long seq = first + n;
                    byte[] payload = reading(seq, ts, features[(int) (seq % features.length)]);
                    sent[n] = System.nanoTime();
                    s.publish(payload);
                    n++;
                }
            }
            long lastPublish = System.nanoTime();
            step.sent = n;
            step.sentRate = n / ((lastPublish - start) / 1e9);
            nextSeq = first + n;
            long deadline = lastPublish + 10_000_000_000L;
            while (System.nanoTime() < deadline && countAnswered(answered, n) + errors.get() < n) {
                Thread.sleep(20);
            }
            step.answered = countAnswered(answered, n);
            step.errors = errors.get();
            step.errorCodes = Map.copyOf(codes);
            step.publishFailed = publishFailed.get();
            step.late = late.get();
            long lastAnswer = 0;
            long[] lat = new long[(int) step.answered];
            int k = 0;
            for (int i = 0; i < n; i++) {
                long a = answered.get(i);
                if (a != 0) {
                    lastAnswer = Math.max(lastAnswer, a);
                    if (k < lat.length) {
                        lat[k++] = a - sent[i];
                    }
                }
            }
            step.tailNanos = Math.max(0, lastAnswer - lastPublish);
            step.slowest = slowest(sent, answered, n, start, wallStart);
            Arrays.sort(lat, 0, k);
            step.latencies = Arrays.copyOf(lat, k);
            Thread.sleep(1_000); // let stragglers of this step land before the next one
            return step;
        }

        /**
         * The ten 100-ms windows (by send time, wall clock) with the slowest answers: when the tail happened, to set
         * next to the gateway's GC log and its own log.
         */
        private static String slowest(long[] sent, AtomicLongArray answered, int n, long start, long wallStart) {
            int bins = (int) ((sent[Math.max(0, n - 1)] - start) / 100_000_000L) + 1;
            long[] max = new long[bins];
            int[] over = new int[bins];
            for (int i = 0; i < n; i++) {
                long a = answered.get(i);
                if (a == 0) {
                    continue;
                }
                int b = (int) Math.min(bins - 1, Math.max(0, (sent[i] - start) / 100_000_000L));
                max[b] = Math.max(max[b], a - sent[i]);
                if (a - sent[i] > 5_000_000L) {
                    over[b]++;
                }
            }
            java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.S")
                    .withZone(java.time.ZoneOffset.UTC);
            return java.util.stream.IntStream.range(0, bins).boxed()
                    .sorted((x, y) -> Long.compare(max[y], max[x])).limit(10)
                    .map(b -> String.format(Locale.ROOT, "%s max %.1f ms (%d > 5 ms)",
                            f.format(Instant.ofEpochMilli(wallStart + b * 100L)), max[b] / 1e6, over[b]))
                    .collect(java.util.stream.Collectors.joining("; "));
        }

        private static long countAnswered(AtomicLongArray a, int n) {
            long c = 0;
            for (int i = 0; i < n; i++) {
                if (a.get(i) != 0) {
                    c++;
                }
            }
            return c;
        }

        static byte[] reading(long seq, String ts, byte[] features) {
            byte[] head = ("{\"seq\":" + seq + ",\"ts\":\"" + ts + "\",\"features\":").getBytes(StandardCharsets.UTF_8);
            byte[] out = Arrays.copyOf(head, head.length + features.length + 1);
            System.arraycopy(features, 0, out, head.length, features.length);
            out[out.length - 1] = '}';
            return out;
        }

        void answered(byte[] payload) {
            long now = System.nanoTime();
            Long seq = seq(payload);
            if (seq == null) {
                return;
            }
            Window w = window;
            long i = seq - w.base();
            AtomicLongArray a = w.answeredAt();
            if (i < 0 || i >= a.length() || w.sentAt()[(int) i] == 0) {
                late.incrementAndGet();
                return;
            }
            a.compareAndSet((int) i, 0, now);
        }

        void refused(byte[] payload) {
            String s = new String(payload, StandardCharsets.UTF_8);
            Matcher m = CODE.matcher(s);
            String code = m.find() ? m.group(1) : "?";
            Long seq = seq(payload);
            if (seq != null && seq >= window.base()) {
                errors.incrementAndGet();
                codes.merge(code, 1L, Long::sum);
            }
        }

        static Long seq(byte[] payload) {
            // {"seq":N,... is how both the gateway's results and its relay echo begin
            Matcher m = SEQ.matcher(new String(payload, 0, Math.min(payload.length, 40), StandardCharsets.UTF_8));
            return m.find() ? Long.parseLong(m.group(1)) : null;
        }

        @Override
        public void close() {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            for (BenchSensor s : sensors) {
                pool.submit(s::close);
            }
            pool.shutdown();
            try {
                pool.awaitTermination(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pings.shutdownNow();
        }
    }

    /** A sensor's topics in the MQTT contract (docs/mqtt.md): readings out, results and errors in. */
    record Topics(String readings, String results, String errors) {
        static Topics of(String deviceId) {
            String prefix = "siteward/sensors/" + deviceId + "/";
            return new Topics(prefix + "readings", prefix + "inference", prefix + "errors");
        }
    }

    /** One simulated sensor's connection. */
    interface BenchSensor {
        /** Publishes one reading with QoS 1, without waiting for its PUBACK. */
        void publish(byte[] payload) throws Exception;

        void close();
    }

    /**
     * One sensor on the HiveMQ MQTT client ({@code -Dbench.client=hivemq}, the default): its own MQTT 5 connection
     * and TLS session with its own certificate, but all connections share the client library's few Netty event-loop
     * threads, so 1,000 sensors do not add 3,000 threads to the two cores the gateway runs on.
     */
    static final class EventLoopSensor implements BenchSensor {
        final Fleet fleet;
        final Mqtt5AsyncClient client;
        final String readings;

        EventLoopSensor(Fleet fleet, int port, DeviceIdentity device) throws Exception {
            this.fleet = fleet;
            String id = device.deviceId();
            Topics topics = Topics.of(id);
            readings = topics.readings();
            String results = topics.results();
            String errorsTopic = topics.errors();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] pass = "bench".toCharArray();
            keys.setKeyEntry("device", device.privateKey(), pass, device.chain().toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, pass);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", device.root());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            client = MqttClient.builder().useMqttVersion5().identifier(id).serverHost("localhost").serverPort(port)
                    .sslConfig(MqttClientSslConfig.builder().keyManagerFactory(kmf).trustManagerFactory(tmf)
                            .protocols(List.of("TLSv1.3", "TLSv1.2")).build())
                    .buildAsync();
            client.publishes(MqttGlobalPublishFilter.SUBSCRIBED, p -> {
                byte[] payload = p.getPayloadAsBytes();
                if (p.getTopic().toString().equals(results)) {
                    fleet.answered(payload);
                } else {
                    fleet.refused(payload);
                }
            });
            client.connectWith().cleanStart(true).keepAlive(60).send().get(60, TimeUnit.SECONDS);
            client.subscribeWith()
                    .addSubscription().topicFilter(results).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                    .addSubscription().topicFilter(errorsTopic).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                    .send().get(30, TimeUnit.SECONDS);
        }

        @Override
        public void publish(byte[] payload) {
            client.publishWith().topic(readings).qos(MqttQos.AT_LEAST_ONCE).payload(payload).send()
                    .whenComplete((result, failure) -> {
                        if (failure != null || result.getError().isPresent() || (result
                                instanceof Mqtt5PublishResult.Mqtt5Qos1Result q1
                                && q1.getPubAck().getReasonCode().isError())) {
                            fleet.publishFailed.incrementAndGet();
                        }
                    });
        }

        @Override
        public void close() {
            try {
                client.disconnect().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // already gone
            }
        }
    }

    /** One sensor on Paho ({@code -Dbench.client=paho}): its own client, TLS connection and certificate. */
    static final class Sensor implements BenchSensor, MqttCallback, MqttActionListener {
        final Fleet fleet;
        final MqttAsyncClient paho;
        final String readings;
        final String results;
        final String errorsTopic;

        Sensor(Fleet fleet, int port, DeviceIdentity device) throws Exception {
            this.fleet = fleet;
            String id = device.deviceId();
            Topics topics = Topics.of(id);
            readings = topics.readings();
            results = topics.results();
            errorsTopic = topics.errors();
            // a shared scheduler for keep-alive pings instead of one Timer thread per client
            paho = new MqttAsyncClient("ssl://localhost:" + port, id, new MemoryPersistence(),
                    new TimerPingSender(fleet.pings), null);
            paho.setCallback(this);
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setSocketFactory(NoDelaySocketFactory.wrap(MqttDevices.sslContext(device).getSocketFactory()));
            o.setCleanStart(true);
            o.setConnectionTimeout(30);
            o.setKeepAliveInterval(60);
            o.setAutomaticReconnect(false);
            paho.connect(o).waitForCompletion(60_000);
            paho.subscribe(new MqttSubscription[] {new MqttSubscription(results, 1),
                new MqttSubscription(errorsTopic, 1)}).waitForCompletion(30_000);
        }

        @Override
        public void publish(byte[] payload) throws MqttException {
            MqttMessage m = new MqttMessage(payload, 1, false, new MqttProperties());
            for (int attempt = 0; ; attempt++) {
                try {
                    paho.publish(readings, m, null, this);
                    return;
                } catch (MqttException e) {
                    if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT || attempt > 100_000) {
                        fleet.publishFailed.incrementAndGet();
                        return;
                    }
                    Thread.onSpinWait(); // Paho's "Too many publishes in progress": retry
                }
            }
        }

        @Override
        public void onSuccess(IMqttToken token) {
            int[] codes = token.getReasonCodes();
            if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                fleet.publishFailed.incrementAndGet();
            }
        }

        @Override
        public void onFailure(IMqttToken token, Throwable exception) {
            fleet.publishFailed.incrementAndGet();
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            if (topic.equals(results)) {
                fleet.answered(message.getPayload());
            } else {
                fleet.refused(message.getPayload());
            }
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            System.out.println("sensor " + paho.getClientId() + " disconnected: " + response);
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }

        @Override
        public void close() {
            try {
                if (paho.isConnected()) {
                    paho.disconnect(2_000).waitForCompletion(5_000);
                }
                paho.close(true);
            } catch (MqttException ignored) {
                // already gone
            }
        }
    }

    /** One memory sample: RSS, NMT's committed total and, within it, the committed Java heap (KiB). */
    record Sample(double minutes, long rssKb, long nmtCommittedKb, long heapCommittedKb) {
        long nonHeapKb() {
            return nmtCommittedKb - heapCommittedKb;
        }
    }

    static Sample sample(long pid, double minutes) throws Exception {
        long[] nmt = nmtCommittedKb(pid);
        return new Sample(minutes, rssKb(pid), nmt[0], nmt[1]);
    }

    static long rssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS for " + pid);
    }

    /** {@code jcmd <pid> VM.native_memory summary}: the committed total and committed Java heap, KiB. */
    static long[] nmtCommittedKb(long pid) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Processes.Result r = Processes.run(Path.of("."), Map.of(), List.of(jcmd.toString(), String.valueOf(pid),
                "VM.native_memory", "summary"));
        Matcher m = NMT_TOTAL.matcher(r.stdout());
        Matcher h = NMT_HEAP.matcher(r.stdout());
        if (r.exitCode() != 0 || !m.find() || !h.find()) {
            throw new AssertionError("jcmd VM.native_memory failed: " + r.both());
        }
        return new long[] {Long.parseLong(m.group(2)), Long.parseLong(h.group(2))};
    }

    /** Least-squares slope in MiB per minute of one figure of the samples. */
    static double slope(List<Sample> samples, java.util.function.ToLongFunction<Sample> kb) {
        int n = samples.size();
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (Sample s : samples) {
            mx += s.minutes;
            my += kb.applyAsLong(s) / 1024.0;
        }
        mx /= n;
        my /= n;
        double num = 0;
        double den = 0;
        for (Sample s : samples) {
            double dx = s.minutes - mx;
            num += dx * (kb.applyAsLong(s) / 1024.0 - my);
            den += dx * dx;
        }
        return den == 0 ? Double.NaN : num / den;
    }

    static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static void check(Processes.Result r) {
        if (r.exitCode() != 0) {
            throw new AssertionError(r.both());
        }
    }

    private static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // best effort
        }
    }
}
