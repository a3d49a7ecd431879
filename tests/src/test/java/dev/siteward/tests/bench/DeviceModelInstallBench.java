package dev.siteward.tests.bench;

import static dev.siteward.tests.bench.ModelRepositoryBench.cat;
import static dev.siteward.tests.bench.ModelRepositoryBench.check;
import static dev.siteward.tests.bench.ModelRepositoryBench.median;
import static dev.siteward.tests.bench.ModelRepositoryBench.result;
import static dev.siteward.tests.bench.ModelRepositoryBench.run;
import static dev.siteward.tests.bench.ModelRepositoryBench.say;

import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.models.FetchResult;
import dev.siteward.device.models.ModelClient;
import dev.siteward.device.models.ModelTrustState;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PemCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Device-side model install throughput (docs/benchmarks.md, "Device model install"): the SDK's
 * {@code ModelClient.fetch} of a released N MiB model from the real gateway over mTLS on loopback — metadata checks,
 * download, SHA-256 of the blob, signature verification, staging, re-verification from disk, A/B commit — next to
 * {@code openssl dgst -sha256} and {@code sha256sum} of the same file and {@code curl} downloading the same blob from
 * the gateway over mTLS, all in the same run. {@code mvn -B -q -pl tests -am -Pbench-device-models verify}
 * ({@code -Dbench.device.mib=256 -Dbench.device.runs=3}).
 */
public final class DeviceModelInstallBench {

    private DeviceModelInstallBench() {
    }

    public static void main(String[] args) throws Exception {
        int mib = Integer.getInteger("bench.device.mib", 256);
        int runs = Integer.getInteger("bench.device.runs", 3);
        Path jar = Path.of(System.getProperty("siteward.gateway.jar"));
        Path deviceJar = Path.of(System.getProperty("siteward.device.jar"));
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Path dir = Files.createTempDirectory("siteward-device-models-bench");
        say("device model install benchmark: " + mib + " MiB model, " + runs + " runs each, in " + dir + ", "
                + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        Path model = Files.createDirectories(dir.resolve("model"));
        Path onnx = model.resolve("model.onnx");
        ModelRepositoryBench.writeOnnx(onnx, (long) mib << 20);
        Files.writeString(model.resolve("siteward-model.yaml"), "entry: model.onnx\ninputs:\n  - name: x\n"
                + "    shape: [1, 4]\noutputs:\n  - name: y\n    shape: [1, 2]\n");
        double mb = Files.size(onnx) / 1e6;
        List<Double> sha256sum = new ArrayList<>();
        List<Double> openssl = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            sha256sum.add(check(run(dir, List.of("sha256sum", onnx.toString()))).seconds());
            openssl.add(check(run(dir, List.of("openssl", "dgst", "-sha256", onnx.toString()))).seconds());
        }
        result(String.format("baseline sha256sum: %.2f s (%.0f MB/s); openssl dgst -sha256: %.2f s (%.0f MB/s)",
                median(sha256sum), mb / median(sha256sum), median(openssl), mb / median(openssl)));

        Path data = dir.resolve("data");
        List<String> cli = List.of(javaBin.toString(), "-jar", jar.toString());
        ModelRepositoryBench.Gateway gw = ModelRepositoryBench.Gateway.start(javaBin, jar, data, dir);
        try {
            check(run(dir, cat(cli, "model", "keygen", "--out", dir.resolve("keys").toString())));
            check(run(dir, cat(cli, "publisher", "add", "bench-team", "--roots",
                    dir.resolve("keys/publisher-cert.pem").toString(), "--models", "bench/*", "--data-dir",
                    data.toString())));
            Path sig = dir.resolve("model.sig");
            check(run(dir, cat(cli, "model", "sign", model.toString(), "--key",
                    dir.resolve("keys/publisher-key.pem").toString(), "--cert-chain",
                    dir.resolve("keys/publisher-cert.pem").toString(), "--out", sig.toString())));
            check(run(dir, cat(cli, "model", "publish", model.toString(), "--signature", sig.toString(), "--name",
                    "bench/model", "--version", "1", "--data-dir", data.toString())));
            check(run(dir, cat(cli, "model", "release", "bench/model", "--version", "1", "--channel", "stable",
                    "--data-dir", data.toString())));

            ModelRepositoryBench.enroll(dir, gw, token(dir, cli, data, "bench-1"));
            String sha = check(run(dir, List.of("sha256sum", onnx.toString()))).out().split("\\s+")[0];
            List<Double> curl = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                curl.add(ModelRepositoryBench.download(dir, "https://localhost:" + gw.devicePort
                        + "/v1/models/blobs/" + sha));
            }

            Clock clock = Clock.systemUTC();
            RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(2),
                    new SecureRandom()), 3, d -> Thread.sleep(d.toMillis()));
            DeviceDirectory sdkDir = new DeviceDirectory(dir.resolve("sdk-device"));
            String pin = Certificates.fingerprint(PemCodec.parseCertificates(
                    Files.readString(data.resolve("admin/root.pem"))).get(0));
            DeviceIdentity id = new EnrollmentClient(clock, retry).enroll(EnrollmentRequest.of(
                    "https://localhost:" + gw.enrollPort, token(dir, cli, data, "bench-sdk"), pin), sdkDir,
                    new Pkcs12DeviceKeyStore(sdkDir.keysDir(), clock));
            DeviceHttpClient http = new DeviceHttpClient(id, clock);
            List<Double> sdk = new ArrayList<>();
            for (int i = 0; i < runs + 1; i++) {
                deleteModels(sdkDir.path().resolve("models"));
                long t0 = System.nanoTime();
                FetchResult r = ModelClient.over(http, sdkDir, clock, retry,
                        ModelTrustState.DEFAULT_OFFLINE_ALLOWANCE).fetch("bench/model");
                double s = (System.nanoTime() - t0) / 1e9;
                if (r.outcome() != FetchResult.Outcome.INSTALLED) {
                    throw new IllegalStateException("fetch: " + r);
                }
                if (i > 0) {
                    sdk.add(s);     // the first run warms the JIT and the connection
                }
            }
            List<Double> deviceCli = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                deleteModels(sdkDir.path().resolve("models"));
                deviceCli.add(check(run(dir, List.of(javaBin.toString(), "-jar", deviceJar.toString(), "model",
                        "fetch", "bench/model", "--dir", sdkDir.path().toString()))).seconds());
            }
            result(String.format("curl download of the blob from the gateway over mTLS (to /dev/null): %.2f s "
                    + "(%.0f MB/s)", median(curl), mb / median(curl)));
            result(String.format("ModelClient.fetch in-process (metadata, download over mTLS, SHA-256, signature, "
                    + "staging, re-verify from disk, A/B commit): %.2f s (%.0f MB/s) = %.2fx openssl dgst, %.2fx "
                    + "sha256sum, %.2fx curl download", median(sdk), mb / median(sdk), median(sdk) / median(openssl),
                    median(sdk) / median(sha256sum), median(sdk) / median(curl)));
            result(String.format("siteward-device model fetch (CLI, incl. JVM start): %.2f s (%.0f MB/s)",
                    median(deviceCli), mb / median(deviceCli)));
            say("runs (s): openssl " + openssl + ", sha256sum " + sha256sum + ", curl " + curl + ", sdk " + sdk
                    + ", cli " + deviceCli);
        } finally {
            gw.stop();
        }
    }

    private static String token(Path dir, List<String> cli, Path data, String id) throws Exception {
        return check(run(dir, cat(cli, "token", "create", "--device-id", id, "--data-dir", data.toString())))
                .out().strip();
    }

    private static void deleteModels(Path models) throws Exception {
        if (!Files.exists(models)) {
            return;
        }
        try (var walk = Files.walk(models)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
