package dev.siteward.tests.bench;

import dev.siteward.gateway.models.BlobStore;
import dev.siteward.gateway.models.ModelFiles;
import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.store.GatewayStore;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Model repository benchmark (docs/benchmarks.md, "Model repository"): publish time for a large model (default
 * 1 GiB) through the running gateway (files streamed over mTLS) and on the data dir, next to {@code sha256sum} and
 * {@code openssl dgst -sha256} of the same file in the same run; and download throughput of the same file by a device
 * with {@code curl} over mTLS on loopback, next to {@code curl} from {@code openssl s_server -WWW} (mTLS, same
 * certificates) and a plain {@code cat} of the file. Every figure is the median of {@code bench.models.runs} runs.
 *
 * <p>Run: {@code mvn -B -q -pl tests -am -Pbench-models verify -DskipTests} ({@code -Dbench.models.mib=1024},
 * {@code -Dbench.models.runs=3}, {@code -Dbench.dir=...}).
 */
public final class ModelRepositoryBench {

    private static final Pattern LISTENING = Pattern.compile("siteward: listening enroll=(\\d+) device=(\\d+).*");
    private static final Pattern TOKEN = Pattern.compile("^(\\S+)$", Pattern.MULTILINE);
    private static final List<String> SUMMARY = new ArrayList<>();

    private ModelRepositoryBench() {
    }

    record Run(int exit, String out, double seconds) {
    }

    public static void main(String[] args) throws Exception {
        int mib = Integer.getInteger("bench.models.mib", 1024);
        int runs = Integer.getInteger("bench.models.runs", 3);
        Path jar = Path.of(System.getProperty("siteward.gateway.jar"));
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Path dir = System.getProperty("bench.dir") == null ? Files.createTempDirectory("siteward-models-bench")
                : Files.createDirectories(Path.of(System.getProperty("bench.dir")));
        say("model repository benchmark: " + mib + " MiB model, " + runs + " runs each, in " + dir + ", "
                + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        Path model = Files.createDirectories(dir.resolve("model"));
        Path onnx = model.resolve("model.onnx");
        writeOnnx(onnx, (long) mib << 20);
        Files.writeString(model.resolve("siteward-model.yaml"), "entry: model.onnx\ninputs:\n  - name: x\n"
                + "    shape: [1, 4]\noutputs:\n  - name: y\n    shape: [1, 2]\n");
        long size = Files.size(onnx);
        double mb = size / 1e6;

        List<Double> sha256sum = new ArrayList<>();
        List<Double> openssl = new ArrayList<>();
        List<Double> cat = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            sha256sum.add(check(run(dir, List.of("sha256sum", onnx.toString()))).seconds());
            openssl.add(check(run(dir, List.of("openssl", "dgst", "-sha256", onnx.toString()))).seconds());
            cat.add(check(run(dir, List.of("sh", "-c", "cat '" + onnx + "' > /dev/null"))).seconds());
        }
        result(String.format("baseline sha256sum: %.2f s (%.0f MB/s); openssl dgst -sha256: %.2f s (%.0f MB/s); "
                + "cat > /dev/null: %.2f s", median(sha256sum), mb / median(sha256sum), median(openssl),
                mb / median(openssl), median(cat)));

        Path data = dir.resolve("data");
        List<String> cli = List.of(javaBin.toString(), "-jar", jar.toString());
        Gateway gw = Gateway.start(javaBin, jar, data, dir);
        try {
            check(run(dir, cat(cli, "model", "keygen", "--out", dir.resolve("keys").toString())));
            check(run(dir, cat(cli, "publisher", "add", "bench-team", "--roots",
                    dir.resolve("keys/publisher-cert.pem").toString(), "--models", "bench/*", "--data-dir",
                    data.toString())));
            Path sig = dir.resolve("model.sig");
            Run sign = check(run(dir, cat(cli, "model", "sign", model.toString(), "--key",
                    dir.resolve("keys/publisher-key.pem").toString(), "--cert-chain",
                    dir.resolve("keys/publisher-cert.pem").toString(), "--out", sig.toString())));
            result(String.format("siteward model sign (CLI, incl. JVM start): %.2f s", sign.seconds()));
            Run noop = check(run(dir, cat(cli, "model", "list", "--data-dir", data.toString())));
            List<Double> remote = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                remote.add(check(run(dir, cat(cli, "model", "publish", model.toString(), "--signature", sig.toString(),
                        "--name", "bench/model", "--version", String.valueOf(i), "--data-dir", data.toString())))
                        .seconds());
            }
            byte[] sigBytes = Files.readAllBytes(sig);
            List<Double> inProcess = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                inProcess.add(publishRemote(data, gw.devicePort, model, sigBytes, "bench/model", runs + i));
            }
            result(String.format("publish through the running gateway, admin API called in-process (streamed upload "
                    + "over mTLS + verify + store): %.2f s (%.0f MB/s) = %.2fx sha256sum, %.2fx openssl dgst",
                    median(inProcess), mb / median(inProcess), median(inProcess) / median(sha256sum),
                    median(inProcess) / median(openssl)));
            result(String.format("publish through the running gateway (CLI, streamed upload over mTLS + verify + "
                    + "store): %.2f s (%.0f MB/s) = %.2fx sha256sum, %.2fx openssl dgst; "
                    + "'siteward model list' (JVM start + admin call) %.2f s", median(remote), mb / median(remote),
                    median(remote) / median(sha256sum), median(remote) / median(openssl), noop.seconds()));

            check(run(dir, cat(cli, "model", "release", "bench/model", "--version", String.valueOf(2 * runs),
                    "--channel", "stable", "--data-dir", data.toString())));
            String token = check(run(dir, cat(cli, "token", "create", "--device-id", "bench-1", "--data-dir",
                    data.toString()))).out().strip();
            enroll(dir, gw, token);
            String sha = check(run(dir, List.of("sha256sum", onnx.toString()))).out().split("\\s+")[0];
            List<Double> gateway = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                gateway.add(download(dir, "https://localhost:" + gw.devicePort + "/v1/models/blobs/" + sha));
            }
            Path www = Files.createDirectories(dir.resolve("www"));
            Files.createLink(www.resolve("model.onnx"), onnx);
            Files.copy(data.resolve("gateway/server.pem"), www.resolve("server.pem"));
            Files.writeString(www.resolve("issuing.pem"), dev.siteward.pki.PemCodec.certificates(List.of(
                    dev.siteward.pki.PemCodec.parseCertificates(Files.readString(www.resolve("server.pem"))).get(1))));
            Files.copy(data.resolve("gateway/server-key.pem"), www.resolve("server-key.pem"));
            int port = freePort();
            Process sServer = new ProcessBuilder("openssl", "s_server", "-quiet", "-accept", String.valueOf(port),
                    "-cert", "server.pem", "-cert_chain", "issuing.pem", "-key", "server-key.pem", "-Verify", "1",
                    "-WWW").directory(www.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("s_server.log").toFile()).start();
            List<Double> baseline = new ArrayList<>();
            try {
                waitForPort(port);
                for (int i = 0; i < runs; i++) {
                    baseline.add(download(dir, "https://localhost:" + port + "/model.onnx"));
                }
            } finally {
                sServer.destroy();
                sServer.waitFor(5, TimeUnit.SECONDS);
            }
            result(String.format("download with curl over mTLS, loopback: gateway %.2f s (%.0f MB/s, blob re-hashed "
                    + "as served); openssl s_server -WWW %.2f s (%.0f MB/s); gateway/s_server throughput %.2f",
                    median(gateway), mb / median(gateway), median(baseline), mb / median(baseline),
                    median(baseline) / median(gateway)));
        } finally {
            gw.stop();
        }
        List<Double> local = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            local.add(check(run(dir, cat(cli, "model", "publish", model.toString(), "--signature",
                    dir.resolve("model.sig").toString(), "--name", "bench/model", "--version",
                    String.valueOf(2 * runs + i), "--data-dir", data.toString()))).seconds());
        }
        List<Double> localInProcess = new ArrayList<>();
        byte[] sigBytes = Files.readAllBytes(dir.resolve("model.sig"));
        try (GatewayStore store = GatewayStore.openEmbedded(data)) {
            ModelRepository repo = new ModelRepository(store, new BlobStore(data), data, java.time.Clock.systemUTC(),
                    1L << 40);
            for (int i = 1; i <= runs; i++) {
                long t0 = System.nanoTime();
                repo.publishLocal(model, null, "bench/model", 3L * runs + i, sigBytes);
                localInProcess.add((System.nanoTime() - t0) / 1e9);
            }
        }
        result(String.format("publish on the data dir, in-process ModelRepository.publishLocal (copy to staging + "
                + "verify + store): %.2f s (%.0f MB/s) = %.2fx sha256sum, %.2fx openssl dgst", median(localInProcess),
                mb / median(localInProcess), median(localInProcess) / median(sha256sum),
                median(localInProcess) / median(openssl)));
        result(String.format("publish on the data dir, gateway stopped (CLI: copy to staging + verify + store): "
                + "%.2f s (%.0f MB/s) = %.2fx sha256sum, %.2fx openssl dgst", median(local), mb / median(local),
                median(local) / median(sha256sum), median(local) / median(openssl)));
        say("");
        say("summary:");
        SUMMARY.forEach(s -> say("  " + s));
        if (!Boolean.getBoolean("bench.keep")) {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Publishes through the admin API as the CLI does (uploads, one PUT per file, publish); returns seconds. */
    static double publishRemote(Path data, int port, Path model, byte[] sig, String name, long version)
            throws Exception {
        Path admin = data.resolve("admin");
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("admin", dev.siteward.pki.KeyMaterial.readPrivateKey(Files.readString(admin.resolve(
                "admin-key.pem"))), new char[0], dev.siteward.pki.PemCodec.parseCertificates(Files.readString(
                admin.resolve("admin.pem"))).toArray(new java.security.cert.Certificate[0]));
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, new char[0]);
        java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", dev.siteward.pki.PemCodec.parseCertificates(Files.readString(
                admin.resolve("root.pem"))).get(0));
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().sslContext(ctx)
                .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        String base = "https://localhost:" + port + "/v1/admin/models/";
        long t0 = System.nanoTime();
        var up = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "uploads"))
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"upload\"\\s*:\\s*\"([0-9a-f]+)\"").matcher(up.body());
        if (!m.find()) {
            throw new IllegalStateException("upload: " + up.statusCode() + " " + up.body());
        }
        String id = m.group(1);
        for (String f : ModelFiles.list(model, null)) {
            var r = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "uploads/" + id
                    + "/files?path=" + java.net.URLEncoder.encode(f, StandardCharsets.UTF_8)))
                    .header("Content-Type", "application/octet-stream")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofFile(model.resolve(f))).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("upload " + f + ": " + r.statusCode() + " " + r.body());
            }
        }
        String json = "{\"upload\":\"" + id + "\",\"name\":\"" + name + "\",\"version\":" + version
                + ",\"signature\":\"" + Base64.getEncoder().encodeToString(sig) + "\",\"singleFile\":false}";
        var r = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "publish"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("publish: " + r.statusCode() + " " + r.body());
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** curl over mTLS as the enrolled device to /dev/null; returns curl's total time. */
    static double download(Path dir, String url) throws Exception {
        Run r = check(run(dir, List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                "--cacert", dir.resolve("data/admin/root.pem").toString(), "--cert", dir.resolve("dev.pem").toString(),
                "--key", dir.resolve("dev.key").toString(), url)));
        String[] f = r.out().strip().split(" ");
        if (!f[0].equals("200")) {
            throw new IllegalStateException("download " + url + " answered " + r.out());
        }
        return Double.parseDouble(f[1]);
    }

    static void enroll(Path dir, Gateway gw, String token) throws Exception {
        check(run(dir, List.of("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", dir.resolve("dev.key").toString(), "-subj", "/CN=bench-1", "-outform", "DER",
                "-out", dir.resolve("dev.der").toString())));
        Files.writeString(dir.resolve("dev.b64"), Base64.getEncoder().encodeToString(
                Files.readAllBytes(dir.resolve("dev.der"))));
        check(run(dir, List.of("curl", "-sS", "-f", "-o", dir.resolve("dev.p7b64").toString(), "--cacert",
                dir.resolve("data/admin/root.pem").toString(), "-H", "Content-Type: application/pkcs10", "-H",
                "Authorization: Bearer " + token, "--data-binary", "@" + dir.resolve("dev.b64"),
                "https://localhost:" + gw.enrollPort + "/.well-known/est/simpleenroll")));
        Files.write(dir.resolve("dev.p7"), Base64.getMimeDecoder().decode(Files.readString(dir.resolve("dev.p7b64"))));
        check(run(dir, List.of("openssl", "pkcs7", "-inform", "DER", "-in", dir.resolve("dev.p7").toString(),
                "-print_certs", "-out", dir.resolve("dev.pem").toString())));
    }

    /** Writes an ONNX ModelProto whose one initializer holds {@code weights} pseudo-random bytes, streaming. */
    static void writeOnnx(Path file, long weights) throws IOException {
        byte[] tensorHead = cat(str(8, "w"), key(9, 2), raw(weights));
        long tensorLen = tensorHead.length + weights;
        byte[] x = msg(11, valueInfo("x", 1, 4));
        byte[] y = msg(12, valueInfo("y", 1, 2));
        byte[] graphHead = cat(str(2, "g"), key(5, 2), raw(tensorLen));
        long graphLen = graphHead.length + tensorLen + x.length + y.length;
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(cat(key(1, 0), raw(8), key(7, 2), raw(graphLen), graphHead, tensorHead));
            SplittableRandom random = new SplittableRandom(42);
            byte[] buf = new byte[1 << 20];
            for (long left = weights; left > 0; left -= buf.length) {
                for (int i = 0; i < buf.length; i += 8) {
                    long v = random.nextLong();
                    for (int b = 0; b < 8; b++) {
                        buf[i + b] = (byte) (v >>> (8 * b));
                    }
                }
                out.write(buf, 0, (int) Math.min(buf.length, left));
            }
            out.write(cat(x, y));
        }
    }

    static byte[] valueInfo(String name, long... dims) {
        byte[] shape = new byte[0];
        for (long d : dims) {
            shape = cat(shape, msg(1, cat(key(1, 0), raw(d))));
        }
        return cat(str(1, name), msg(2, msg(1, cat(key(1, 0), raw(1), msg(2, shape)))));
    }

    static byte[] msg(int field, byte[] body) {
        return cat(key(field, 2), raw(body.length), body);
    }

    static byte[] str(int field, String s) {
        return msg(field, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] key(int field, int wire) {
        return raw(((long) field << 3) | wire);
    }

    static byte[] raw(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static List<String> cat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    static Run run(Path dir, List<String> cmd) throws Exception {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        if (!p.waitFor(1800, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        String text = out.get(10, TimeUnit.SECONDS);
        return new Run(p.exitValue(), text, (System.nanoTime() - start) / 1e9);
    }

    static Run check(Run r) {
        if (r.exit() != 0) {
            throw new IllegalStateException("command failed (" + r.exit() + "): " + r.out());
        }
        return r;
    }

    static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
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

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void waitForPort(int port) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (java.net.Socket probe = new java.net.Socket("localhost", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("openssl s_server did not start on " + port);
    }

    /** The gateway jar serving a data dir. */
    static final class Gateway {
        final Process process;
        final int enrollPort;
        final int devicePort;

        private Gateway(Process process, int enrollPort, int devicePort) {
            this.process = process;
            this.enrollPort = enrollPort;
            this.devicePort = devicePort;
        }

        static Gateway start(Path java, Path jar, Path data, Path dir) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(java.toString(), "-jar", jar.toString(), "serve", "--data-dir",
                    data.toString(), "--enroll-port", "0", "--device-port", "0")
                    .redirectError(dir.resolve("gateway.log").toFile());
            pb.environment().remove("SITEWARD_HOME");
            pb.environment().put("SITEWARD_CA_PASSPHRASE", "benchmark passphrase");
            Process p = pb.start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<Matcher> ready = CompletableFuture.supplyAsync(() -> {
                try {
                    String line;
                    while ((line = out.readLine()) != null) {
                        Matcher m = LISTENING.matcher(line.strip());
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
                throw new IllegalStateException("gateway did not start: "
                        + Files.readString(dir.resolve("gateway.log")));
            }
            Thread drain = new Thread(() -> {
                try {
                    while (out.readLine() != null) {
                        // keep the pipe empty
                    }
                } catch (IOException ignored) {
                    // ended
                }
            });
            drain.setDaemon(true);
            drain.start();
            return new Gateway(p, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
