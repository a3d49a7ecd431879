package dev.siteward.tests;

import dev.siteward.tests.Processes.Result;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged gateway ({@code siteward serve}) running in its own process on free ports, in a data dir of its own.
 * Started by {@link #start}, ready once it printed {@code siteward: listening enroll=<port> device=<port>}, stopped
 * with SIGTERM by {@link #close}. Its stderr goes to {@code gateway.err} in the data dir's parent for diagnosis.
 */
final class GatewayProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("siteward: listening enroll=(\\d+) device=(\\d+).*");
    private static final Pattern MQTT = Pattern.compile(" mqtt=(\\d+)");
    private static final Pattern MANAGEMENT = Pattern.compile(" management=(\\d+)");

    private final Process process;
    private final Path dataDir;
    private final Path workDir;
    private final Map<String, String> env;
    private final Path log;
    private final int enrollPort;
    private final int devicePort;
    private int mqttPort = -1;
    private int managementPort = -1;
    private java.net.http.HttpClient adminClient;
    private static int counter;

    private GatewayProcess(Process process, Path dataDir, Map<String, String> env, Path log, int enrollPort,
                           int devicePort) {
        this.process = process;
        this.dataDir = dataDir;
        this.workDir = dataDir.toAbsolutePath().getParent();
        this.env = env;
        this.log = log;
        this.enrollPort = enrollPort;
        this.devicePort = devicePort;
    }

    /** Starts the gateway in {@code dataDir} (created with its site CA on first start) and waits until it listens. */
    static GatewayProcess start(Path dataDir) throws IOException, InterruptedException {
        return start(dataDir, Map.of(), List.of());
    }

    static GatewayProcess start(Path dataDir, Map<String, String> env) throws IOException, InterruptedException {
        return start(dataDir, env, List.of());
    }

    /**
     * Starts the gateway with extra environment (e.g. {@code SITEWARD_CA_PASSPHRASE}) and JVM arguments (e.g.
     * {@code -Dsiteward.idevid-anchors=...}); its stderr goes to {@code <parent of data dir>/gateway-<n>.log}.
     */
    static synchronized GatewayProcess start(Path dataDir, Map<String, String> env, List<String> jvmArgs)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(Processes.siteward("serve", "--data-dir", dataDir.toString(),
                "--enroll-port", "0", "--device-port", "0", "--mqtt-port", "0", "--management-port", "0"));
        cmd.removeIf(a -> a.equals("-XX:TieredStopAtLevel=1") || a.equals("-XX:+UseSerialGC"));
        cmd.addAll(1, jvmArgs);
        Path err = dataDir.toAbsolutePath().getParent().resolve("gateway-" + (++counter) + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().remove("SITEWARD_CA_PASSPHRASE");
        pb.environment().remove("SITEWARD_PKCS11_PIN");
        pb.environment().remove("SITEWARD_HOME");
        pb.environment().putAll(env);
        Process p = pb.start();
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            // reads stdout to the end, so the gateway never blocks on a full pipe
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line.strip());
                    if (m.matches()) {
                        ready.complete(m);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            ready.complete(null);
        }, "gateway-stdout");
        reader.setDaemon(true);
        reader.start();
        Matcher m;
        try {
            m = ready.get(90, TimeUnit.SECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            m = null;
        }
        if (m == null) {
            p.destroyForcibly();
            throw new AssertionError("gateway did not start; stderr:\n" + (Files.exists(err) ? Files.readString(err)
                    : "(none)"));
        }
        GatewayProcess g = new GatewayProcess(p, dataDir, env, err, Integer.parseInt(m.group(1)),
                Integer.parseInt(m.group(2)));
        Matcher mqtt = MQTT.matcher(m.group());
        if (mqtt.find()) {
            g.mqttPort = Integer.parseInt(mqtt.group(1));
        }
        Matcher management = MANAGEMENT.matcher(m.group());
        if (management.find()) {
            g.managementPort = Integer.parseInt(management.group(1));
        }
        return g;
    }

    /** The gateway JVM's process id (for /proc and jcmd). */
    long pid() {
        return process.pid();
    }

    /** The management listener's port (/prometheus, /health) from the listening line, or -1. */
    int managementPort() {
        return managementPort;
    }

    /** The embedded MQTT broker's port from the listening line, or -1 when it runs none (external broker). */
    int mqttPort() {
        return mqttPort;
    }

    Path dataDir() {
        return dataDir;
    }

    String deviceUrl() {
        return "https://localhost:" + devicePort;
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** Runs a {@code siteward} CLI command against this gateway's data dir, with the gateway's environment. */
    Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return Processes.run(workDir, env, Processes.siteward(all.toArray(new String[0])));
    }

    /** Stops the gateway with SIGTERM and waits for it to exit; returns its exit code (143: stopped by SIGTERM). */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway did not stop within 30 s of SIGTERM");
        }
        return process.exitValue();
    }

    int enrollPort() {
        return enrollPort;
    }

    int devicePort() {
        return devicePort;
    }

    /** The enrollment URL as a device on this host is given it. */
    URI enrollUrl() {
        return URI.create("https://localhost:" + enrollPort);
    }

    /** Runs a {@code siteward} command against this gateway's data dir ({@code --data-dir} appended). */
    Result siteward(String... args) {
        return cli(args);
    }

    /** {@code siteward token create} (the operator's command): a one-time enrollment token for the device id. */
    String tokenFromCli(String deviceId, String labels) {
        Result r = labels == null ? siteward("token", "create", "--device-id", deviceId)
                : siteward("token", "create", "--device-id", deviceId, "--labels", labels);
        if (r.exitCode() != 0) {
            throw new AssertionError("token create failed: " + r.both());
        }
        return r.stdout().strip();
    }

    /**
     * A one-time enrollment token from the admin API ({@code POST /v1/admin/tokens}, what {@code token create} calls
     * on a running gateway), without starting a JVM per token. {@code labels}: {@code k=v,...} or null.
     */
    String token(String deviceId, String labels) throws Exception {
        StringBuilder json = new StringBuilder("{\"deviceId\":\"" + deviceId + "\"");
        if (labels != null) {
            json.append(",\"labels\":{");
            String sep = "";
            for (String kv : labels.split(",")) {
                String[] p = kv.split("=", 2);
                json.append(sep).append('"').append(p[0]).append("\":\"").append(p[1]).append('"');
                sep = ",";
            }
            json.append('}');
        }
        json.append('}');
        var r = admin("POST", "tokens", json.toString());
        Matcher m = Pattern.compile("\"token\"\\s*:\\s*\"([^\"]+)\"").matcher(r.body());
        if (r.statusCode() != 200 || !m.find()) {
            throw new AssertionError("token creation failed: " + r.statusCode() + " " + r.body());
        }
        return m.group(1);
    }

    /** The {@code sha256:<hex>} root fingerprint from {@code siteward ca show}. */
    String rootFingerprint() {
        Result r = siteward("ca", "show");
        Matcher m = Pattern.compile("(?m)^root (sha256:[0-9a-f]{64})$").matcher(r.stdout());
        if (r.exitCode() != 0 || !m.find()) {
            throw new AssertionError("ca show printed no root fingerprint: " + r.both());
        }
        return m.group(1);
    }

    /**
     * Calls the running gateway's admin API ({@code https://localhost:<device port>/v1/admin/...}) in-process with
     * the first admin credential from the data dir ({@code admin/admin.pem}, {@code admin-key.pem}, {@code root.pem}),
     * for tests that need to know when an admin action took effect to the millisecond.
     */
    java.net.http.HttpResponse<String> admin(String method, String path, String json) throws Exception {
        if (adminClient == null) {
            adminClient = adminClient();
        }
        return adminClient.send(java.net.http.HttpRequest.newBuilder(URI.create("https://localhost:" + devicePort
                + "/v1/admin/" + path)).header("Content-Type", "application/json")
                .method(method, java.net.http.HttpRequest.BodyPublishers.ofString(json)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    private java.net.http.HttpClient adminClient() throws Exception {
        Path admin = dataDir.resolve("admin");
        java.security.PrivateKey key = dev.siteward.pki.KeyMaterial.readPrivateKey(
                Files.readString(admin.resolve("admin-key.pem")));
        List<java.security.cert.X509Certificate> chain = dev.siteward.pki.PemCodec.parseCertificates(
                Files.readString(admin.resolve("admin.pem")));
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("admin", key, new char[0], chain.toArray(new java.security.cert.Certificate[0]));
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, new char[0]);
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", dev.siteward.pki.PemCodec.parseCertificates(
                Files.readString(admin.resolve("root.pem"))).get(0));
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return java.net.http.HttpClient.newBuilder().sslContext(ctx)
                .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    }

    /** Stops the gateway with SIGTERM (graceful shutdown), forcibly after 20 s. */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
