package dev.siteward.gateway.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code siteward demo}: the whole site on one machine. It starts the gateway ({@code siteward serve}, a child process
 * of the same jar) in its own data dir, makes a demo publisher, signs the demo vibration model and publishes and
 * releases it to class {@code vibration}, pushes a signed policy bundle that lets the gateway's service identity
 * request {@code line.stop} (at most once in ten minutes), and runs five sensors as child processes of the device
 * SDK's CLI ({@code siteward-device enroll}, then {@code sense} fed readings on stdin): two normal, one drifting, one
 * with anomaly bursts and one that is revoked half-way. It prints what happens as it happens — from the sensors'
 * answers and the gateway's log — and stops everything at the end of the duration or on Ctrl-C.
 */
public final class SiteDemo {

    /** Runs a {@code siteward} CLI command in this process (the gateway holds the data dir: it goes to its API). */
    public interface Cli {
        Result run(String... args);
    }

    /** A CLI command's exit code and output. */
    public record Result(int code, String out, String err) {
    }

    /**
     * @param duration   how long the sensors stream (setup and shutdown come on top)
     * @param workDir    where everything lives (the gateway's data dir is {@code workDir/gateway})
     * @param keep       keep {@code workDir} afterwards (else it is deleted)
     * @param gatewayJar the gateway jar this command runs from
     * @param deviceJar  the device SDK's jar ({@code siteward-device.jar})
     * @param java       the java launcher for the child processes
     */
    public record Settings(Duration duration, Path workDir, boolean keep, Path gatewayJar, Path deviceJar,
                           String java) {
    }

    static final String MODEL = "demo/vibration";
    static final String CLASS = "vibration";
    static final int READINGS_PER_SECOND = 10;
    static final int BURST_READINGS = 8;
    static final Duration WARM_UP_LIMIT = Duration.ofSeconds(120);
    private static final Pattern LISTENING = Pattern.compile(
            "siteward: listening enroll=(\\d+) device=(\\d+) mqtt=(\\d+)(?: management=(\\d+))?.*");
    private static final Pattern ACTION = Pattern.compile(
            "inference: (\\S+) on (\\S+) requested (\\S+) -> (allow|deny) \\((.*)\\)$");
    private static final Pattern DRIFT = Pattern.compile(
            "drift: (\\S+) on device (\\S+): feature (\\d+) PSI ([0-9.]+) >= ([0-9.]+) over its last (\\d+) readings");
    private static final Pattern DRIFT_CLEARED = Pattern.compile("drift cleared: (\\S+) on device (\\S+):");
    private static final Pattern DISCONNECTED = Pattern.compile("disconnected MQTT client '([^']+)': (.*)$");
    private static final Pattern REFUSED = Pattern.compile("MQTT CONNECT refused for client id '([^']+)' from [^:]+: "
            + "(.*)$");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Settings settings;
    private final Cli cli;
    private final PrintWriter out;
    private final long started = System.nanoTime();
    private final List<Process> processes = new ArrayList<>();
    private final List<DemoSensor> sensors = new ArrayList<>();
    private final java.util.Set<String> cutOff = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private Process gateway;
    private Path dataDir;
    private int managementPort = -1;

    public SiteDemo(Settings settings, Cli cli, PrintWriter out) {
        this.settings = settings;
        this.cli = cli;
        this.out = out;
    }

    /** Runs the demo; returns 0 when it ran to its end and stopped cleanly. */
    public int run() throws Exception {
        Thread hook = new Thread(() -> {
            stopAll();
            if (!settings.keep()) {
                deleteTree(settings.workDir());
            }
        }, "demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Path work = settings.workDir();
            dataDir = work.resolve("gateway");
            event("demo", "working in " + work + " (the gateway's data dir is " + dataDir + ")");
            startGateway(work);
            Path publisher = publisher(work);
            releaseModel(work, publisher);
            pushPolicy(work, publisher);
            String fingerprint = rootFingerprint();
            enroll(work, fingerprint);
            stream();
            if (stopping) {
                return 130;
            }
            summary();
            stopAll();
            event("demo", "stopped cleanly: sensors, then the gateway");
        } finally {
            stopAll();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook runs stopAll itself
            }
        }
        if (!settings.keep()) {
            deleteTree(settings.workDir());
        } else {
            event("demo", "kept " + settings.workDir() + "; e.g. siteward device list --data-dir " + dataDir);
        }
        return 0;
    }

    // ---- steps ----------------------------------------------------------------------------------------------

    private void startGateway(Path work) throws Exception {
        Files.createDirectories(work);
        Path log = work.resolve("gateway.log");
        List<String> cmd = List.of(settings.java(), "-jar", settings.gatewayJar().toString(), "serve", "--data-dir",
                dataDir.toString(), "--enroll-port", "0", "--device-port", "0", "--mqtt-port", "0",
                "--management-port", "0");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null")));
        pb.environment().remove("SITEWARD_CA_PASSPHRASE");
        pb.environment().remove("SITEWARD_PKCS11_PIN");
        event("gateway", "starting: siteward serve --data-dir " + dataDir);
        gateway = start(pb);
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        daemon("gateway-stdout", () -> lines(gateway.getInputStream(), line -> {
            Matcher m = LISTENING.matcher(line.strip());
            if (m.matches()) {
                ready.complete(m);
            }
        }));
        Writer logFile = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
        daemon("gateway-log", () -> {
            try (logFile) {
                lines(gateway.getErrorStream(), line -> {
                    try {
                        logFile.write(line + "\n");
                        logFile.flush();
                    } catch (IOException ignored) {
                        // the log file is for diagnosis only
                    }
                    gatewayLog(line);
                });
            } catch (IOException ignored) {
                // closing the log file
            }
            ready.complete(null);
        });
        Matcher m;
        try {
            m = ready.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            m = null;
        }
        if (m == null) {
            throw new IllegalStateException("the gateway did not start; see " + log);
        }
        int mqtt = Integer.parseInt(m.group(3));
        managementPort = m.group(4) == null ? -1 : Integer.parseInt(m.group(4));
        enrollUrl = "https://localhost:" + m.group(1);
        mqttUrl = "mqtts://localhost:" + mqtt;
        event("gateway", "listening: enrollment " + enrollUrl + ", devices and admin API https://localhost:"
                + m.group(2) + ", MQTT 5 " + mqttUrl + (managementPort > 0 ? ", metrics http://127.0.0.1:"
                + managementPort + "/prometheus" : "") + " (log: " + log + ")");
    }

    private String enrollUrl;
    private String mqttUrl;

    private Path publisher(Path work) throws IOException {
        Path dir = work.resolve("publisher");
        siteward("model", "keygen", "--out", dir.toString(), "--name", "demo-publisher");
        siteward("publisher", "add", "demo", "--roots", dir.resolve("publisher-cert.pem").toString(), "--models",
                "demo/*", "--policies", "--data-dir", dataDir.toString());
        event("publisher", "demo publisher created (its own key and CA) and trusted for models demo/* and policies");
        return dir;
    }

    private void releaseModel(Path work, Path publisher) throws IOException {
        Path model = Files.createDirectories(work.resolve("vibration-model"));
        for (String f : List.of("model.onnx", "siteward-model.yaml")) {
            try (InputStream in = SiteDemo.class.getResourceAsStream("vibration-demo/" + f)) {
                if (in == null) {
                    throw new IllegalStateException("the demo model is missing from the jar (" + f + ")");
                }
                Files.copy(in, model.resolve(f));
            }
        }
        Path sig = work.resolve("vibration-model.sig");
        siteward("model", "sign", model.toString(), "--key", publisher.resolve("publisher-key.pem").toString(),
                "--cert-chain", publisher.resolve("publisher-cert.pem").toString(), "--out", sig.toString());
        event("publisher", "signed the vibration model (OpenSSF model signing: every file's SHA-256, one signature)");
        siteward("model", "publish", model.toString(), "--signature", sig.toString(), "--name", MODEL, "--version",
                "1", "--data-dir", dataDir.toString());
        siteward("model", "release", MODEL, "--version", "1", "--channel", "stable", "--classes", CLASS,
                "--data-dir", dataDir.toString());
        event("gateway", "model " + MODEL + " version 1 released to class " + CLASS
                + " (signature verified on publish)");
    }

    private void pushPolicy(Path work, Path publisher) throws IOException {
        Path dir = Files.createDirectories(work.resolve("demo-site-policy"));
        Files.writeString(dir.resolve("line.yaml"), """
                schemaVersion: 1
                rules:
                  - id: inference-may-stop-the-line-once-in-ten-minutes
                    description: The gateway's shared inference may stop the line on a sensor's alarm, once in 10m.
                    effect: allow
                    subjects:
                      services: [gateway]
                    actions: [line.stop]
                    resources:
                      ids: [sensor-*]
                    when:
                      rateLimit: {max: 1, per: 10m}
                """);
        siteward("policy", "sign", dir.toString(), "--key", publisher.resolve("publisher-key.pem").toString(),
                "--cert-chain", publisher.resolve("publisher-cert.pem").toString(), "--version", "1");
        siteward("policy", "push", dir.toString(), "--data-dir", dataDir.toString());
        event("gateway", "signed policy bundle installed: the gateway may request line.stop, at most once in 10 "
                + "minutes; anything else is denied");
    }

    private String rootFingerprint() {
        Result r = siteward("ca", "show", "--data-dir", dataDir.toString());
        Matcher m = Pattern.compile("(?m)^root (sha256:[0-9a-f]{64})\\s*$").matcher(r.out());
        if (!m.find()) {
            throw new IllegalStateException("'siteward ca show' printed no root fingerprint");
        }
        return m.group(1);
    }

    private void enroll(Path work, String fingerprint) throws Exception {
        DemoReadings.Kind[] kinds = {DemoReadings.Kind.NORMAL, DemoReadings.Kind.NORMAL, DemoReadings.Kind.DRIFTING,
            DemoReadings.Kind.ANOMALY, DemoReadings.Kind.NORMAL};
        List<Process> enrolling = new ArrayList<>();
        for (int i = 0; i < kinds.length; i++) {
            String id = "sensor-" + (i + 1);
            String token = siteward("token", "create", "--device-id", id, "--labels", "class=" + CLASS,
                    "--data-dir", dataDir.toString()).out().strip();
            Path dir = work.resolve("sensors").resolve(id);
            Files.createDirectories(dir.getParent());
            DemoSensor s = new DemoSensor(id, kinds[i], dir, i + 1);
            sensors.add(s);
            ProcessBuilder pb = new ProcessBuilder(device("enroll", "--gateway", enrollUrl, "--token", token,
                    "--ca-fingerprint", fingerprint, "--dir", dir.toString())).redirectErrorStream(true);
            enrolling.add(start(pb));
        }
        event("operator", "one-time enrollment tokens created for sensor-1 .. sensor-" + kinds.length + " (label class="
                + CLASS + ")");
        for (int i = 0; i < enrolling.size(); i++) {
            Process p = enrolling.get(i);
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(sensors.get(i).id + " did not enroll: " + text.strip());
            }
            event(sensors.get(i).id, "enrolled with the device SDK (key made on the device, certificate from the site "
                    + "CA) — " + sensors.get(i).describe());
        }
    }

    private void stream() throws Exception {
        for (DemoSensor s : sensors) {
            s.process = start(new ProcessBuilder(device("sense", "--dir", s.dir.toString(), "--mqtt-url", mqttUrl,
                    "--first-seq", "1", "--wait", "3")));
            daemon(s.id + "-answers", () -> lines(s.process.getInputStream(), line -> answer(s, line)));
            daemon(s.id + "-err", () -> lines(s.process.getErrorStream(), line -> s.lastError = line));
        }
        long period = 1000 / READINGS_PER_SECOND;
        event("demo", "5 sensors streaming " + READINGS_PER_SECOND + " readings/s each over MQTT 5 (mTLS); the "
                + "scenario starts once each has its first result");
        long warmUp = System.nanoTime();
        while (!stopping && sensors.stream().anyMatch(s -> s.results.get() == 0)
                && System.nanoTime() - warmUp < WARM_UP_LIMIT.toNanos()) {
            for (DemoSensor s : sensors) {
                s.send((System.nanoTime() - warmUp) / 1e9, false);
            }
            Thread.sleep(period);
        }
        long durationMs = settings.duration().toMillis();
        long t0 = System.nanoTime();
        event("demo", "scenario: " + settings.duration().toSeconds() + " s of streaming; anomaly bursts at 30% and "
                + "65%, sensor-5 revoked at 45%");
        long[] bursts = {durationMs * 30 / 100, durationMs * 65 / 100};
        long revokeAt = durationMs * 45 / 100;
        long summaryEvery = 10_000;
        long nextSummary = summaryEvery;
        boolean revoked = false;
        long tick = 0;
        int[] burstLeft = new int[1];
        int nextBurst = 0;
        while (!stopping) {
            long elapsed = (System.nanoTime() - t0) / 1_000_000;
            if (elapsed >= durationMs) {
                break;
            }
            if (nextBurst < bursts.length && elapsed >= bursts[nextBurst]) {
                nextBurst++;
                burstLeft[0] = BURST_READINGS;
                event("sensor-4", "anomaly burst: " + BURST_READINGS + " readings with feature "
                        + DemoReadings.ANOMALY_FEATURE + " six standard deviations out");
            }
            if (!revoked && elapsed >= revokeAt) {
                revoked = true;
                revoke(sensors.get(4));
            }
            for (DemoSensor s : sensors) {
                boolean burst = s.kind == DemoReadings.Kind.ANOMALY && burstLeft[0] > 0;
                s.send((System.nanoTime() - warmUp) / 1e9, burst);
            }
            if (burstLeft[0] > 0) {
                burstLeft[0]--;
            }
            if (elapsed >= nextSummary) {
                nextSummary += summaryEvery;
                progress();
            }
            tick++;
            long sleep = t0 / 1_000_000 + tick * period - System.nanoTime() / 1_000_000;
            if (sleep > 0) {
                Thread.sleep(sleep);
            }
        }
        progress();
    }

    private void revoke(DemoSensor s) {
        Result r = siteward("device", "revoke", s.id, "--reason", "keyCompromise", "--data-dir", dataDir.toString());
        // the revocation is in force once the command returns; the broker cuts the session within 1 s of it
        s.revokedAtNanos = System.nanoTime();
        event("operator", "revoked " + s.id + " (siteward device revoke " + s.id + " --reason keyCompromise): "
                + r.out().strip().lines().findFirst().orElse(""));
    }

    private void summary() {
        DemoSensor revoked = sensors.get(4);
        long after = revoked.resultsAfterRevocation.get();
        event(revoked.id, (cutOff.contains(revoked.id) ? "cut off: " : "")
                + after + " results later than 1 s after its revocation; " + revoked.sent + " readings sent in all, "
                + revoked.results.get() + " answered (the rest stay queued on the device)");
        Result list = cli.run("device", "list", "--data-dir", dataDir.toString());
        if (list.code() == 0) {
            event("operator", "siteward device list:");
            list.out().lines().forEach(l -> println("          " + l));
        }
        String drift = metrics();
        if (!drift.isEmpty()) {
            event("gateway", "/prometheus drift gauges:");
            drift.lines().forEach(l -> println("          " + l));
        }
    }

    private String metrics() {
        if (managementPort < 0) {
            return "";
        }
        try {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + managementPort
                            + "/prometheus")).timeout(Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            StringBuilder b = new StringBuilder();
            r.body().lines().filter(l -> l.startsWith("siteward_inference_drift")).forEach(l -> b.append(l)
                    .append('\n'));
            return b.toString();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private void progress() {
        StringBuilder b = new StringBuilder("results so far:");
        for (DemoSensor s : sensors) {
            b.append(' ').append(s.id).append(' ').append(s.results.get());
        }
        event("demo", b.toString());
    }

    // ---- what the sensors and the gateway say ----------------------------------------------------------------

    private void answer(DemoSensor s, String line) {
        JsonNode a;
        try {
            a = JSON.readTree(line);
        } catch (IOException e) {
            return;
        }
        if ("inference".equals(a.path("topic").asText())) {
            long n = s.results.incrementAndGet();
            if (s.revokedAtNanos > 0 && System.nanoTime() - s.revokedAtNanos > 1_000_000_000L) {
                s.resultsAfterRevocation.incrementAndGet();
            }
            String decision = a.path("decision").asText();
            double score = a.path("outputs").path("anomaly").asDouble(Double.NaN);
            if (n == 1) {
                event(s.id, String.format(Locale.ROOT, "first result: %s version %d, anomaly %.3f, %s (%.1f ms)",
                        a.path("model").asText(), a.path("version").asLong(), score, decision,
                        a.path("latency_ms").asDouble()));
            }
            if (!decision.equals(s.decision)) {
                if ("alarm".equals(decision)) {
                    event(s.id, String.format(Locale.ROOT, "ALARM: anomaly %.3f, at least 3 of its last 5 "
                            + "readings above the signed threshold 0.5", score));
                } else if ("alarm".equals(s.decision)) {
                    event(s.id, "alarm cleared");
                }
                s.decision = decision;
            }
        } else if (s.errors.incrementAndGet() <= 3) {
            event(s.id, "error " + a.path("code").asText() + ": " + a.path("message").asText());
        }
    }

    private void gatewayLog(String line) {
        Matcher m = ACTION.matcher(line);
        if (m.find()) {
            event("gateway", "action " + m.group(3) + " requested for " + m.group(2) + "'s alarm: "
                    + ("allow".equals(m.group(4)) ? "ALLOWED" : "DENIED") + " by policy (" + m.group(5)
                    + "), audited");
            return;
        }
        m = DRIFT.matcher(line);
        if (m.find()) {
            event("gateway", "drift flagged: " + m.group(2) + " on " + m.group(1) + ": feature " + m.group(3)
                    + " PSI " + m.group(4) + " >= " + m.group(5) + " against the signed reference, over its last "
                    + m.group(6) + " readings");
            return;
        }
        m = DRIFT_CLEARED.matcher(line);
        if (m.find()) {
            event("gateway", "drift cleared: " + m.group(2) + " on " + m.group(1));
            return;
        }
        m = DISCONNECTED.matcher(line);
        if (m.find()) {
            cutOff.add(m.group(1));
            event("gateway", m.group(1) + " disconnected by the broker: " + m.group(2) + " — cut off");
            return;
        }
        m = REFUSED.matcher(line);
        if (m.find()) {
            if (cutOff.add(m.group(1) + "#refused")) {
                cutOff.add(m.group(1));
                event("gateway", m.group(1) + " reconnect refused: " + m.group(2) + " — cut off");
            }
        }
    }

    // ---- processes --------------------------------------------------------------------------------------------

    private List<String> device(String... args) {
        List<String> cmd = new ArrayList<>(List.of(settings.java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Xmx128m", "-jar", settings.deviceJar().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private synchronized Process start(ProcessBuilder pb) throws IOException {
        if (stopping) {
            throw new IllegalStateException("stopping");
        }
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /** Stops the sensors (end of input, then a few seconds for their answers), then the gateway (SIGTERM). */
    synchronized void stopAll() {
        stopping = true;
        if (processes.isEmpty()) {
            return;
        }
        for (DemoSensor s : sensors) {
            s.close();
        }
        for (DemoSensor s : sensors) {
            if (s.process != null) {
                waitOrKill(s.process, 15);
            }
        }
        List<Process> rest = new ArrayList<>(processes);
        processes.clear();
        for (Process p : rest) {
            if (p != gateway) {
                waitOrKill(p, 1);
            }
        }
        if (gateway != null && gateway.isAlive()) {
            event("gateway", "stopping (SIGTERM)");
            gateway.destroy();
            waitOrKill(gateway, 20);
            event("gateway", "stopped (exit " + gateway.exitValue() + ")");
        }
    }

    private static void waitOrKill(Process p, int seconds) {
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private Result siteward(String... args) {
        Result r = cli.run(args);
        if (r.code() != 0) {
            throw new IllegalStateException("'siteward " + String.join(" ", args) + "' failed (exit " + r.code()
                    + "): " + (r.err().isBlank() ? r.out() : r.err()).strip());
        }
        return r;
    }

    private static void lines(InputStream in, java.util.function.Consumer<String> each) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                each.accept(line);
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private void event(String who, String text) {
        double s = (System.nanoTime() - started) / 1e9;
        println(String.format(Locale.ROOT, "%6.1fs  %-9s %s", s, who, text));
    }

    private void println(String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a temp dir
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
