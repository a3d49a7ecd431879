package dev.siteward.tests.bench;

import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Gateway benchmark (issue 3): enrollments/s end to end, mTLS keep-alive requests/s, new mTLS handshakes/s next to
 * {@code openssl s_server}, and revocation-to-enforcement time. Starts the real gateway jar (one process per JDK
 * in {@code bench.gatewayJdks}) on free ports with a fresh data dir; every figure is printed with the load average
 * and its same-run baseline. Run: {@code mvn -B -q -pl tests -am -Pbench verify} (see docs/benchmarks.md).
 *
 * <p>System properties: {@code bench.seconds} (timed window per figure, default 6), {@code bench.stime.seconds}
 * (s_time window, default 10), {@code bench.gatewayJdks} (comma-separated JDK homes), {@code bench.sections}
 * (enroll,mtls,handshake,revoke), {@code bench.gatewayJvmArgs} (extra JVM flags for the gateway, space-separated),
 * {@code siteward.gateway.jar}.
 */
public final class GatewayBench {

    private static final double SECONDS = Double.parseDouble(System.getProperty("bench.seconds", "6"));
    private static final int STIME = Integer.getInteger("bench.stime.seconds", 10);
    /** 5-second s_time rounds against the gateway before the timed ones (JIT warm-up of the handshake path). */
    private static final int WARMUP_ROUNDS = Integer.getInteger("bench.stime.warmups", 6);
    private static final Pattern LISTENING = Pattern.compile("siteward: listening enroll=(\\d+) device=(\\d+)");
    private static final Pattern TOKEN = Pattern.compile("\"token\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern STIME_REAL =
            Pattern.compile("(\\d+) connections in (\\d+) real seconds, (\\d+) bytes read per connection");
    private static final List<String> SUMMARY = new ArrayList<>();
    /** The keep-alive request path (default the device API's whoami; {@code /health} skips the controller). */
    private static final String MTLS_PATH = System.getProperty("bench.mtlsPath", "/v1/whoami");

    private GatewayBench() {
    }

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(System.getProperty("siteward.gateway.jar", "gateway/target/siteward-gateway.jar"));
        String jdkList = System.getProperty("bench.gatewayJdks",
                "/usr/lib/jvm/temurin-25-jdk-amd64,/usr/lib/jvm/java-17-openjdk-amd64");
        List<String> sections = List.of(System.getProperty("bench.sections", "enroll,mtls,handshake,revoke")
                .split(","));
        say("harness JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + ", cores: " + Runtime.getRuntime().availableProcessors() + ", "
                + run(List.of("openssl", "version"), 10).trim());
        Path work = Files.createTempDirectory("siteward-gwbench");
        say("work dir: " + work + (Boolean.getBoolean("bench.keep") ? " (kept)" : " (deleted at the end)"));
        try {
            for (String home : jdkList.split(",")) {
                Path java = Path.of(home.trim(), "bin", "java");
                if (!Files.isExecutable(java)) {
                    say("skipping missing JDK " + home);
                    continue;
                }
                new GatewayRun(java, jar, work.resolve(Path.of(home.trim()).getFileName().toString()), sections)
                        .run();
            }
        } finally {
            if (!Boolean.getBoolean("bench.keep")) {
                try (var walk = Files.walk(work)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
        System.out.println();
        System.out.println("==== summary ====");
        SUMMARY.forEach(System.out::println);
    }

    static void say(String s) {
        System.out.println(s);
        System.out.flush();
    }

    static void result(String s) {
        String line = s + "  [load " + load() + "]";
        say(">> " + line);
        SUMMARY.add(line);
    }

    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static String run(List<String> cmd, int timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out.get(5, TimeUnit.SECONDS);
    }

    /** CPU time (user + system) a process has used so far, in ms, from /proc (100 ticks/s); -1 when unknown. */
    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static double percentile(List<Double> sorted, double p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    /** An SSL context from in-memory material: optional key + chain, trusting only the given roots. */
    static SSLContext context(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> roots)
            throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        if (key != null) {
            PrivateKey jdk = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
            ks.setKeyEntry("me", jdk, new char[0], chain.toArray(new X509Certificate[0]));
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        for (int i = 0; i < roots.size(); i++) {
            ts.setCertificateEntry("root" + i, roots.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** A device key and its EST CSR (CN = device id), made before any timing. */
    record Csr(String deviceId, KeyPair keys, byte[] base64) {
        static Csr make(String deviceId) throws Exception {
            KeyPair kp = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            byte[] der = KeyMaterial.certificationRequest(kp, deviceId);
            return new Csr(deviceId, kp, Base64.getEncoder().encode(der));
        }
    }

    /** A started openssl s_server (waits for its ACCEPT line). */
    static final class OpensslServer implements AutoCloseable {
        final Process process;
        final int port;

        OpensslServer(Path dir, List<String> extra) throws Exception {
            port = freePort();
            List<String> cmd = new ArrayList<>(List.of("openssl", "s_server", "-accept", String.valueOf(port)));
            cmd.addAll(extra);
            process = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("s_server-" + port + ".log").toFile()).start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && process.isAlive()) {
                try (java.net.Socket probe = new java.net.Socket("localhost", port)) {
                    return; // listening (with -quiet it prints no ACCEPT line)
                } catch (IOException e) {
                    Thread.sleep(50);
                }
            }
            process.destroyForcibly();
            throw new IllegalStateException("openssl s_server did not start: " + cmd);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** One gateway process on one JDK and every measurement against it. */
    static final class GatewayRun {
        private final Path java;
        private final Path jar;
        private final Path dir;
        private final List<String> sections;
        private final String jdk;
        private Process process;
        private int enrollPort;
        private int devicePort;
        private Path dataDir;
        private X509Certificate root;
        private X509Certificate issuing;
        private SSLContext rootOnly;
        private Http1 admin;

        GatewayRun(Path java, Path jar, Path dir, List<String> sections) throws Exception {
            this.java = java;
            this.jar = jar;
            this.dir = dir;
            this.sections = sections;
            String v = GatewayBench.run(List.of(java.toString(), "-version"), 30).lines().filter(l -> l.contains("Runtime"))
                    .findFirst().orElse("?");
            Matcher build = Pattern.compile("\\(build ([^)]+)\\)").matcher(v);
            this.jdk = "JDK " + (build.find() ? build.group(1) : v.trim());
        }

        void run() throws Exception {
            Files.createDirectories(dir);
            dataDir = dir.resolve("data");
            start();
            try {
                say("");
                say("=== gateway on " + java + " (" + jdk + "), enroll=" + enrollPort + " device=" + devicePort);
                Path adminDir = dataDir.resolve("admin");
                root = PemCodec.parseCertificates(Files.readString(adminDir.resolve("root.pem"))).get(0);
                rootOnly = context(null, null, List.of(root));
                admin = new Http1(context(KeyMaterial.readPrivateKey(Files.readString(adminDir.resolve("admin-key.pem"))),
                        PemCodec.parseCertificates(Files.readString(adminDir.resolve("admin.pem"))), List.of(root)),
                        devicePort);
                if (sections.contains("enroll")) {
                    enrollments();
                }
                List<Enrolled> devices = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    devices.add(enroll(Csr.make("m-" + i)));
                }
                issuing = devices.get(0).chain().get(1);
                if (sections.contains("mtls")) {
                    mtlsRequests(devices);
                }
                if (sections.contains("handshake")) {
                    handshakes(devices.get(0));
                }
                if (sections.contains("revoke")) {
                    revocations();
                }
                admin.close();
            } catch (Exception | Error e) {
                // say what happened to the gateway before giving up on this JDK (the run goes on with the next)
                String tail = String.join("\n", Files.readAllLines(dir.resolve("gateway.log")).stream()
                        .skip(Math.max(0, Files.readAllLines(dir.resolve("gateway.log")).size() - 30)).toList());
                result(jdk + ": RUN FAILED: " + e + "; gateway process alive: " + process.isAlive()
                        + (process.isAlive() ? "" : ", exit code " + process.exitValue()));
                say("gateway.log (last 30 lines):\n" + tail);
            } finally {
                stop();
            }
        }

        private void start() throws Exception {
            List<String> cmd = new ArrayList<>(List.of(java.toString()));
            String extra = System.getProperty("bench.gatewayJvmArgs", "").trim();
            if (!extra.isEmpty()) {
                cmd.addAll(Arrays.asList(extra.split("\\s+")));
            }
            // the per-source enrollment rate limit (20/s, burst 40) would turn a load test from one address into 429s
            cmd.addAll(List.of("-Dsiteward.enroll-rate-per-second=1000000", "-Dsiteward.enroll-burst=1000000",
                    "-jar", jar.toString(), "serve", "--data-dir", dataDir.toString(), "--enroll-port", "0",
                    "--device-port", "0", "--mqtt-port", "0", "--management-port", "0"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("gateway.log").toFile());
            pb.environment().remove("SITEWARD_HOME");
            pb.environment().put("SITEWARD_CA_PASSPHRASE", "benchmark passphrase");
            process = pb.start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            CompletableFuture<Matcher> ready = CompletableFuture.supplyAsync(() -> {
                try {
                    String line;
                    while ((line = out.readLine()) != null) {
                        Matcher m = LISTENING.matcher(line);
                        if (m.matches()) {
                            return m;
                        }
                    }
                } catch (IOException e) {
                    // fall through
                }
                return null;
            });
            Matcher m = ready.get(120, TimeUnit.SECONDS);
            if (m == null) {
                throw new IllegalStateException("gateway did not start: " + Files.readString(dir.resolve("gateway.log")));
            }
            enrollPort = Integer.parseInt(m.group(1));
            devicePort = Integer.parseInt(m.group(2));
        }

        private void stop() throws InterruptedException {
            if (process != null) {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }

        private String token(String deviceId) throws IOException {
            String json = "{\"deviceId\":\"" + deviceId + "\",\"labels\":{\"bench\":\"yes\"},\"ttl\":\"1h\"}";
            Http1.Response r = admin.post("/v1/admin/tokens", "application/json", null,
                    json.getBytes(StandardCharsets.UTF_8));
            Matcher m = TOKEN.matcher(r.text());
            if (r.status() != 200 || !m.find()) {
                throw new IllegalStateException("token for " + deviceId + ": " + r.status() + " " + r.text());
            }
            return m.group(1);
        }

        record Enrolled(String id, KeyPair keys, List<X509Certificate> chain, SSLContext context) {
        }

        static List<X509Certificate> certsOnly(byte[] base64) throws Exception {
            byte[] der = Base64.getMimeDecoder().decode(base64);
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new java.io.ByteArrayInputStream(der))) {
                out.add((X509Certificate) c);
            }
            return out;
        }

        private Enrolled enroll(Csr csr) throws Exception {
            try (Http1 c = new Http1(rootOnly, enrollPort)) {
                Http1.Response r = c.post("/.well-known/est/simpleenroll", "application/pkcs10",
                        "Bearer " + token(csr.deviceId()), csr.base64());
                if (r.status() != 200) {
                    throw new IllegalStateException("enroll " + csr.deviceId() + ": " + r.status() + " " + r.text());
                }
                List<X509Certificate> chain = certsOnly(r.body());
                return new Enrolled(csr.deviceId(), csr.keys(), chain, context(csr.keys().getPrivate(), chain,
                        List.of(root)));
            }
        }

        // ---- 1. enrollments/s ----

        private void enrollments() throws Exception {
            say("-- enrollments/s (tokens made through the admin API and CSRs made before timing)");
            enrollPhase("warm", 8, 200, true);
            for (int clients : new int[] {1, 8}) {
                int cap = (int) (clients == 1 ? 250 * SECONDS : 500 * SECONDS);
                enrollPhase("c" + clients, clients, cap, false);
            }
            issuanceBaseline();
        }

        private void enrollPhase(String phase, int clients, int cap, boolean warm) throws Exception {
            List<Csr> csrs = new ArrayList<>();
            for (int i = 0; i < cap; i++) {
                csrs.add(Csr.make("e-" + phase + "-" + i));
            }
            long t0 = System.nanoTime();
            List<String> tokens = new ArrayList<>();
            for (Csr c : csrs) {
                tokens.add(token(c.deviceId()));
            }
            double tokenRate = cap / ((System.nanoTime() - t0) / 1e9);
            AtomicInteger next = new AtomicInteger();
            AtomicLong ok = new AtomicLong();
            List<String> failures = new CopyOnWriteArrayList<>();
            List<Http1> conns = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                conns.add(new Http1(rootOnly, enrollPort));
            }
            CountDownLatch go = new CountDownLatch(1);
            double seconds = warm ? 1e9 : SECONDS;
            long[] bounds = new long[2];
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                Http1 conn = conns.get(t);
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        long deadline = bounds[0] + (long) (seconds * 1e9);
                        boolean checked = false;
                        int i;
                        while ((i = next.getAndIncrement()) < cap && System.nanoTime() < deadline) {
                            Http1.Response r = conn.post("/.well-known/est/simpleenroll", "application/pkcs10",
                                    "Bearer " + tokens.get(i), csrs.get(i).base64());
                            if (r.status() == 200) {
                                if (!checked) {
                                    List<X509Certificate> chain = certsOnly(r.body());
                                    if (!chain.get(0).getSubjectX500Principal().getName()
                                            .contains("CN=" + csrs.get(i).deviceId())) {
                                        failures.add("leaf is not first / wrong subject");
                                    }
                                    checked = true;
                                }
                                ok.incrementAndGet();
                            } else {
                                failures.add(r.status() + " " + r.text());
                            }
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                });
                th.start();
                threads.add(th);
            }
            bounds[0] = System.nanoTime();
            go.countDown();
            for (Thread th : threads) {
                th.join();
            }
            double elapsed = (System.nanoTime() - bounds[0]) / 1e9;
            for (Http1 c : conns) {
                c.close();
            }
            String line = String.format("%s: enroll %d client(s): %d x 200 in %.2f s = %.0f enrollments/s, "
                            + "%d failures%s (token creation over one admin keep-alive connection: %.0f/s)", jdk,
                    clients, ok.get(), elapsed, ok.get() / elapsed, failures.size(),
                    failures.isEmpty() ? "" : " first: " + failures.get(0), tokenRate);
            if (warm) {
                say("   warm-up " + line);
            } else {
                result(line);
            }
        }

        private void issuanceBaseline() throws Exception {
            String out = GatewayBench.run(List.of(java.toString(), "-Dbench.issuanceOnly=true",
                    "-Dbench.seconds=" + (int) Math.max(3, SECONDS / 2), "-cp", System.getProperty("java.class.path"),
                    "dev.siteward.pki.bench.IssuanceBenchmark"), 120);
            for (String l : out.lines().toList()) {
                if (l.startsWith("issuance,")) {
                    result(jdk + ": baseline, in-process SiteCa.issue loop (gateway idle, same JDK): " + l);
                }
            }
        }

        // ---- 2. mTLS keep-alive requests/s ----

        private void mtlsRequests(List<Enrolled> devices) throws Exception {
            say("-- mTLS keep-alive GET /v1/whoami");
            requestLoop(devices, 8, 2, true);
            for (int clients : new int[] {1, 8}) {
                requestLoop(devices, clients, SECONDS, false);
            }
            Path sdir = opensslFiles(devices.get(0));
            try (OpensslServer s = new OpensslServer(sdir, List.of("-cert", "server.pem", "-cert_chain", "issuing.pem", "-key", "server-key.pem",
                    "-CAfile", "trust.pem", "-Verify", "2", "-verify_return_error", "-rev", "-quiet"))) {
                byte[] line = ("GET /v1/whoami HTTP/1.1 Host: localhost" + " ".repeat(40) + "\n")
                        .getBytes(StandardCharsets.US_ASCII);
                for (int phase = 0; phase < 2; phase++) {
                    double seconds = phase == 0 ? 2 : SECONDS;
                    try (Http1 c = new Http1(devices.get(0).context(), s.port)) {
                        OutputStream out = c.socket().getOutputStream();
                        InputStream in = c.in();
                        long n = 0;
                        long start = System.nanoTime();
                        long deadline = start + (long) (seconds * 1e9);
                        byte[] buf = new byte[line.length];
                        while (System.nanoTime() < deadline) {
                            out.write(line);
                            out.flush();
                            int got = 0;
                            while (got < line.length) {
                                int r = in.read(buf, got, line.length - got);
                                if (r < 0) {
                                    throw new IOException("s_server closed");
                                }
                                got += r;
                            }
                            n++;
                        }
                        double el = (System.nanoTime() - start) / 1e9;
                        if (phase == 1) {
                            result(String.format("%s: baseline openssl s_server -rev (mTLS, -Verify 2 "
                                    + "-verify_return_error), 1 client, same harness, %d-byte line echoed: %d in "
                                    + "%.2f s = %.0f round trips/s", jdk, line.length, n, el, n / el));
                        }
                    }
                }
            }
        }

        private void requestLoop(List<Enrolled> devices, int clients, double seconds, boolean warm) throws Exception {
            List<Http1> conns = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                Http1 c = new Http1(devices.get(i).context(), devicePort);
                Http1.Response r = c.get("/v1/whoami");
                if (r.status() != 200 || !r.text().contains("\"" + devices.get(i).id() + "\"")) {
                    throw new IllegalStateException("whoami: " + r.status() + " " + r.text());
                }
                conns.add(c);
            }
            AtomicLong ok = new AtomicLong();
            List<String> failures = new CopyOnWriteArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            long[] start = new long[1];
            List<Thread> threads = new ArrayList<>();
            for (Http1 c : conns) {
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        long deadline = start[0] + (long) (seconds * 1e9);
                        while (System.nanoTime() < deadline) {
                            Http1.Response r = c.get(MTLS_PATH);
                            if (r.status() == 200) {
                                ok.incrementAndGet();
                            } else {
                                failures.add(r.status() + " " + r.text());
                            }
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                });
                th.start();
                threads.add(th);
            }
            start[0] = System.nanoTime();
            go.countDown();
            for (Thread th : threads) {
                th.join();
            }
            double el = (System.nanoTime() - start[0]) / 1e9;
            for (Http1 c : conns) {
                c.close();
            }
            String line = String.format("%s: mTLS keep-alive GET " + MTLS_PATH + ", %d client(s): %d x 200 in %.2f s = "
                    + "%.0f requests/s, %d failures%s", jdk, clients, ok.get(), el, ok.get() / el, failures.size(),
                    failures.isEmpty() ? "" : " first: " + failures.get(0));
            if (warm) {
                say("   warm-up " + line);
            } else {
                result(line);
            }
        }

        /** Certificates for openssl: the gateway's own server key, the device's credential, trust anchors. */
        private Path opensslFiles(Enrolled device) throws Exception {
            Path sdir = dir.resolve("openssl");
            if (Files.isDirectory(sdir)) {
                return sdir;
            }
            Files.createDirectories(sdir);
            Files.copy(dataDir.resolve("gateway/server.pem"), sdir.resolve("server.pem"));
            Files.copy(dataDir.resolve("gateway/server-key.pem"), sdir.resolve("server-key.pem"));
            Files.copy(dataDir.resolve("admin/root.pem"), sdir.resolve("root.pem"));
            // s_time sends only the first certificate of -cert (no chain): s_server needs the issuing CA to verify
            // the leaf, the gateway finds it itself. Both end at the same root.
            Files.writeString(sdir.resolve("trust.pem"), PemCodec.certificates(List.of(root, issuing)));
            // the gateway sends its chain (server certificate + issuing CA); s_server -cert loads one certificate
            Files.writeString(sdir.resolve("issuing.pem"), PemCodec.certificates(List.of(issuing)));
            Files.writeString(sdir.resolve("dev.pem"), PemCodec.certificates(List.of(device.chain().get(0))));
            Files.writeString(sdir.resolve("dev.key"), KeyMaterial.toPem(device.keys().getPrivate()));
            // a credential from another CA: both servers must refuse it
            GatewayBench.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", sdir.resolve("rogue.key").toString(), "-subj",
                    "/CN=" + device.id(), "-days", "2", "-addext", "extendedKeyUsage=clientAuth", "-out",
                    sdir.resolve("rogue.pem").toString()), 30);
            // what s_server -WWW serves: the same JSON the gateway's whoami answers
            try (Http1 c = new Http1(device.context(), devicePort)) {
                Files.writeString(sdir.resolve("whoami.json"), c.get("/v1/whoami").text());
            }
            return sdir;
        }

        // ---- 3. new mTLS handshakes/s (openssl s_time) ----

        private void handshakes(Enrolled device) throws Exception {
            say("-- new mTLS handshakes/s, openssl s_time -new");
            Path sdir = opensslFiles(device);
            try (OpensslServer s = new OpensslServer(sdir, List.of("-cert", "server.pem", "-cert_chain", "issuing.pem", "-key", "server-key.pem",
                    "-CAfile", "trust.pem", "-Verify", "2", "-verify_return_error", "-WWW", "-quiet"))) {
                // checks first (2 s each): no client certificate, or one from another CA, must get no page
                for (String[] c : List.of(new String[] {"no client certificate"},
                        new String[] {"certificate from another CA", "-cert", "rogue.pem", "-key", "rogue.key"})) {
                    List<String> extra = new ArrayList<>(Arrays.asList(c).subList(1, c.length));
                    say(String.format("   check, %s: gateway %s; s_server %s", c[0],
                            stime(sdir, devicePort, "/v1/whoami", extra, 2).describe(),
                            stime(sdir, s.port, "/whoami.json", extra, 2).describe()));
                }
                List<String> cert = List.of("-cert", "dev.pem", "-key", "dev.key");
                for (int w = 0; w < WARMUP_ROUNDS; w++) { // warm-up (JIT) of the handshake path, both modes
                    long c0 = cpuMillis(process.pid());
                    STime warm = stime(sdir, devicePort, w % 2 == 0 ? null : "/v1/whoami", cert, 5);
                    say(String.format("   warm-up %d: gateway %s, server CPU %.2f ms/connection", w, warm.describe(),
                            (cpuMillis(process.pid()) - c0) / (double) Math.max(1, warm.connections())));
                }
                for (String mode : List.of("handshake only", "handshake + GET")) {
                    boolean www = mode.endsWith("GET");
                    long g0 = cpuMillis(process.pid());
                    STime gw = stime(sdir, devicePort, www ? "/v1/whoami" : null, cert, STIME);
                    long g1 = cpuMillis(process.pid());
                    long o0 = cpuMillis(s.process.pid());
                    STime os = stime(sdir, s.port, www ? "/whoami.json" : null, cert, STIME);
                    long o1 = cpuMillis(s.process.pid());
                    result(String.format("%s: new mTLS connections/s (%s, s_time -new -time %d): gateway %s, server "
                                    + "CPU %.2f ms/connection; openssl s_server %s, server CPU %.2f ms/connection; "
                                    + "ratio %.0f%%", jdk, mode, STIME, gw.describe(),
                            (g1 - g0) / (double) Math.max(1, gw.connections()), os.describe(),
                            (o1 - o0) / (double) Math.max(1, os.connections()), 100.0 * gw.rate() / os.rate()));
                }
            }
        }

        record STime(int connections, int seconds, int bytesPerConnection) {
            double rate() {
                return (double) connections / seconds;
            }

            String describe() {
                return String.format("%d connections in %d s = %.0f/s, %d bytes read per connection", connections,
                        seconds, rate(), bytesPerConnection);
            }
        }

        private STime stime(Path sdir, int port, String path, List<String> cert, int seconds) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("openssl", "s_time", "-connect", "localhost:" + port, "-new",
                    "-CAfile", "root.pem", "-time", String.valueOf(seconds)));
            cmd.addAll(cert);
            if (path != null) {
                cmd.addAll(List.of("-www", path));
            }
            Process p = new ProcessBuilder(cmd).directory(sdir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(seconds + 30L, TimeUnit.SECONDS);
            Matcher m = STIME_REAL.matcher(out);
            if (!m.find()) {
                return new STime(0, seconds, 0);
            }
            return new STime(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)));
        }

        // ---- 4. revocation to enforcement ----

        private void revocations() throws Exception {
            say("-- revocation to enforcement, 20 devices, one open keep-alive connection each");
            List<Enrolled> devices = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                devices.add(enroll(Csr.make("r-" + i)));
            }
            List<Double> closeMs = new ArrayList<>();
            List<Double> apiMs = new ArrayList<>();
            int refused = 0;
            List<String> problems = new ArrayList<>();
            for (Enrolled d : devices) {
                Http1 c = new Http1(d.context(), devicePort);
                if (c.get("/v1/whoami").status() != 200) {
                    problems.add(d.id() + ": first request not 200");
                }
                AtomicLong closedAt = new AtomicLong();
                CountDownLatch started = new CountDownLatch(1);
                InputStream in = c.in();
                Thread reader = new Thread(() -> {
                    started.countDown();
                    try {
                        while (in.read() >= 0) {
                            // drain until the gateway closes the connection
                        }
                    } catch (IOException e) {
                        // a reset or alert counts as closed
                    }
                    closedAt.set(System.nanoTime());
                });
                reader.start();
                started.await();
                Thread.sleep(20);
                long t0 = System.nanoTime();
                Http1.Response r = admin.post("/v1/admin/devices/" + d.id() + "/revoke", "application/json", null,
                        "{\"reason\":\"keyCompromise\"}".getBytes(StandardCharsets.UTF_8));
                long t1 = System.nanoTime();
                reader.join(3000);
                if (r.status() != 200) {
                    problems.add(d.id() + ": revoke answered " + r.status());
                }
                apiMs.add((t1 - t0) / 1e6);
                closeMs.add(closedAt.get() == 0 ? Double.POSITIVE_INFINITY : (closedAt.get() - t0) / 1e6);
                c.close();
                try (Http1 again = new Http1(d.context(), devicePort)) {
                    Http1.Response r2 = again.get("/v1/whoami");
                    if (r2.status() == 200) {
                        problems.add(d.id() + ": new request after revocation answered 200");
                    } else {
                        refused++;
                    }
                } catch (IOException e) {
                    refused++;
                }
            }
            List<Double> sorted = new ArrayList<>(closeMs);
            Collections.sort(sorted);
            List<Double> api = new ArrayList<>(apiMs);
            Collections.sort(api);
            result(String.format("%s: revocation -> open connection closed, 20 devices: median %.1f ms, p90 %.1f ms, "
                            + "max %.1f ms (admin revoke call itself: median %.1f ms, max %.1f ms); new request "
                            + "refused %d/20%s", jdk, percentile(sorted, 50), percentile(sorted, 90),
                    sorted.get(sorted.size() - 1), percentile(api, 50), api.get(api.size() - 1), refused,
                    problems.isEmpty() ? "" : "; problems: " + problems));
            say("   all close times (ms): " + closeMs.stream().map(x -> String.format("%.1f", x)).toList());
        }
    }

    static {
        CryptoProviders.bouncyCastle();
    }
}
