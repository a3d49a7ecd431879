package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup while serving (with devices calling in), restore on a fresh data dir as on new hardware: the enrolled
 * device keeps working with its certificate, a token unused at backup time never opens, the released model is still
 * listed and downloads with its digest intact, the policy bundle, its retention rule and the records kept under it
 * are back, a changed backup is refused, and a restore over a running gateway's data dir is refused.
 */
class BackupRestoreIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "backup test ca passphrase",
            "SITEWARD_BACKUP_PASSPHRASE", "backup test backup passphrase");

    @TempDir
    static Path work;

    private static Result run(String... cmd) {
        return Processes.run(work, Map.of(), List.of(cmd));
    }

    private static Path csr(String name, String cn) throws Exception {
        Path der = work.resolve(name + ".der");
        Result r = run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", work.resolve(name + ".key").toString(), "-subj", "/CN=" + cn, "-outform", "DER",
                "-out", der.toString());
        assertEquals(0, r.exitCode(), r.both());
        Path b64 = work.resolve(name + ".b64");
        Files.writeString(b64, Base64.getEncoder().encodeToString(Files.readAllBytes(der)));
        return b64;
    }

    /** Enrolls with the token; returns the certificate PEM, or null with the HTTP status in {@code status[0]}. */
    private static Path enroll(GatewayProcess gw, String name, String cn, String token, String[] status)
            throws Exception {
        Path csr = csr(name, cn);
        Result r = Processes.run(work, Map.of(), List.of("curl", "-sS", "-o", work.resolve(name + ".out").toString(),
                "-w", "%{http_code}", "--cacert", gw.dataDir().resolve("admin/root.pem").toString(), "-H",
                "Content-Type: application/pkcs10", "-H", "Authorization: Bearer " + token, "--data-binary",
                "@" + csr, gw.enrollUrl() + "/.well-known/est/simpleenroll"));
        status[0] = r.stdout();
        if (!r.stdout().equals("200")) {
            return null;
        }
        Path p7 = work.resolve(name + ".p7");
        Files.write(p7, Base64.getMimeDecoder().decode(Files.readString(work.resolve(name + ".out"))));
        Path pem = work.resolve(name + ".pem");
        assertEquals(0, run("openssl", "pkcs7", "-inform", "DER", "-in", p7.toString(), "-print_certs", "-out",
                pem.toString()).exitCode());
        return pem;
    }

    private static Result whoami(GatewayProcess gw, Path root, Path pem, Path key) {
        return run("curl", "-sS", "--cacert", root.toString(), "--cert", pem.toString(), "--key", key.toString(),
                gw.deviceUrl() + "/v1/whoami");
    }

    /** curl as the lamp device: -sS, the HTTP status last on stdout. */
    private static Result asLamp(GatewayProcess gw, Path root, Path cert, String path, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-w", "\n%{http_code}", "--cacert", root.toString(),
                "--cert", cert.toString(), "--key", work.resolve("lamp.key").toString()));
        cmd.addAll(List.of(extra));
        cmd.add(gw.deviceUrl() + path);
        return run(cmd.toArray(new String[0]));
    }

    private static String httpStatus(Result r) {
        String out = r.stdout().strip();
        return out.substring(out.lastIndexOf('\n') + 1);
    }

    /** The payload of the device's signed release metadata. */
    private static String releaseMetadata(GatewayProcess gw, Path root, Path cert) {
        Result r = asLamp(gw, root, cert, "/v1/models/metadata");
        assertEquals("200", httpStatus(r), r.both());
        String jws = r.stdout().lines().findFirst().orElseThrow();
        return new String(Base64.getUrlDecoder().decode(jws.split("\\.")[1]), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    /**
     * Publishes and releases a signed model (model keygen → publisher add → model sign → publish → release), and
     * installs a signed policy bundle with a retention rule (a publisher CA's certificate, publisher add --policies,
     * policy sign, policy push); returns the model's ONNX bytes.
     */
    private static byte[] publishModelAndPolicy(GatewayProcess gw) throws Exception {
        Path keys = work.resolve("keys");
        Result keygen = run(Processes.siteward("model", "keygen", "--out", keys.toString(), "--name", "vision")
                .toArray(new String[0]));
        assertEquals(0, keygen.exitCode(), keygen.both());
        assertEquals(0, gw.cli("publisher", "add", "vision-team", "--roots", keys.resolve("publisher-cert.pem")
                .toString(), "--models", "vision/*").exitCode());
        byte[] weights = new byte[64 << 10];
        new java.util.Random(11).nextBytes(weights);
        byte[] onnx = ModelRepositoryIT.onnx(weights);
        Path model = Files.createDirectories(work.resolve("lamp-detector"));
        Files.write(model.resolve("model.onnx"), onnx);
        Files.writeString(model.resolve("siteward-model.yaml"), "entry: model.onnx\ninputs:\n  - name: x\n"
                + "    shape: [1, 4]\noutputs:\n  - name: y\n    shape: [1, 2]\n");
        Path sig = work.resolve("lamp-detector.sig");
        Result sign = run(Processes.siteward("model", "sign", model.toString(), "--key", keys.resolve(
                "publisher-key.pem").toString(), "--cert-chain", keys.resolve("publisher-cert.pem").toString(),
                "--out", sig.toString()).toArray(new String[0]));
        assertEquals(0, sign.exitCode(), sign.both());
        Result pub = gw.cli("model", "publish", model.toString(), "--signature", sig.toString(), "--name",
                "vision/lamp-detector", "--version", "1");
        assertEquals(0, pub.exitCode(), pub.both());
        Result rel = gw.cli("model", "release", "vision/lamp-detector", "--version", "1", "--channel", "stable");
        assertEquals(0, rel.exitCode(), rel.both());

        ModelCliIT.PublisherChain security = ModelCliIT.PublisherChain.create(work, keys.resolve("publisher.csr"));
        assertEquals(0, gw.cli("publisher", "add", "secteam", "--roots", security.root().toString(), "--policies")
                .exitCode());
        Path bundle = Files.createDirectories(work.resolve("site-policy/tests")).getParent();
        Files.writeString(bundle.resolve("site.yaml"), """
                schemaVersion: 1
                rules: []
                retention:
                  classes:
                    sensor-readings:
                      fields: [sensor, value]
                      maxAge: 90d
                """);
        Files.writeString(bundle.resolve("tests/site.yaml"), """
                schemaVersion: 1
                cases:
                  - name: nothing moves without a rule
                    at: "2026-11-27T00:00:00Z"
                    subject: {id: lamp-1, kind: device, labels: {}}
                    action: lamp.on
                    resource: {id: lamp-9}
                    expect: deny
                """);
        Result signed = run(Processes.siteward("policy", "sign", bundle.toString(), "--key", keys.resolve(
                "publisher-key.pem").toString(), "--cert-chain", security.chain().toString(), "--version", "3",
                "--expires", "30d").toArray(new String[0]));
        assertEquals(0, signed.exitCode(), signed.both());
        Result push = gw.cli("policy", "push", bundle.toString());
        assertEquals(0, push.exitCode(), push.both());
        return onnx;
    }

    @Test
    void aSiteBackedUpWhileServingComesBackOnNewHardwareWithDevicesWorkingAndTokensSpent() throws Exception {
        Tools.require("openssl", "openssl");
        Tools.require("curl", "curl");
        Path data = work.resolve("old/data");
        Files.createDirectories(data.getParent());
        Path backup = work.resolve("site.swbk");
        Path cert;
        String spare;
        byte[] onnx;
        String onnxSha;
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            String[] status = new String[1];
            cert = enroll(gw, "lamp", "lamp-1", gw.cli("token", "create", "--device-id", "lamp-1").stdout().strip(),
                    status);
            assertEquals("200", status[0]);
            spare = gw.cli("token", "create", "--device-id", "lamp-2").stdout().strip();
            Path root = data.resolve("admin/root.pem");
            onnx = publishModelAndPolicy(gw);
            onnxSha = sha256(onnx);
            assertTrue(releaseMetadata(gw, root, cert).contains(onnxSha), "the lamp sees the released model");
            Result reading = asLamp(gw, root, cert, "/v1/data/sensor-readings", "-H",
                    "Content-Type: application/json", "--data", "{\"sensor\":\"t1\",\"value\":21.5}");
            assertEquals("201", httpStatus(reading), reading.both());

            // the device keeps calling while the backup is taken
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger calls = new AtomicInteger();
            List<String> failures = new ArrayList<>();
            Thread load = new Thread(() -> {
                while (!stop.get()) {
                    Result r = whoami(gw, root, cert, work.resolve("lamp.key"));
                    calls.incrementAndGet();
                    if (!r.stdout().contains("lamp-1")) {
                        synchronized (failures) {
                            failures.add(r.both());
                        }
                    }
                }
            });
            // and new devices enroll meanwhile (the CA journal grows during the snapshot)
            AtomicInteger enrolled = new AtomicInteger();
            Thread enrolling = new Thread(() -> {
                for (int i = 0; !stop.get() && i < 50; i++) {
                    try {
                        String[] st = new String[1];
                        if (enroll(gw, "load" + i, "load-" + i, gw.token("load-" + i, null), st) != null) {
                            enrolled.incrementAndGet();
                        } else {
                            synchronized (failures) {
                                failures.add("enrollment of load-" + i + ": " + st[0]);
                            }
                        }
                    } catch (Exception e) {
                        synchronized (failures) {
                            failures.add(e.toString());
                        }
                    }
                }
            });
            load.start();
            enrolling.start();
            Result b = gw.cli("backup", "--out", backup.toString());
            stop.set(true);
            load.join();
            enrolling.join();
            assertEquals(0, b.exitCode(), b.both());
            assertTrue(b.stdout().contains("verified"), b.stdout());
            assertTrue(calls.get() > 0 && enrolled.get() > 0 && failures.isEmpty(), calls + " calls and " + enrolled
                    + " enrollments during the backup, failures: " + failures);
            assertFalse(Files.readString(backup, java.nio.charset.StandardCharsets.ISO_8859_1).contains("BEGIN"),
                    "the backup is encrypted");

            Result busy = Processes.run(work, ENV, Processes.siteward("restore", backup.toString(), "--data-dir",
                    data.toString(), "--force"));
            assertEquals(3, busy.exitCode(), "no restore over a running gateway: " + busy.both());
        }

        byte[] bytes = Files.readAllBytes(backup);
        bytes[bytes.length / 3] ^= 0x01;
        Path tampered = work.resolve("tampered.swbk");
        Files.write(tampered, bytes);
        Path other = work.resolve("other/data");
        Result bad = Processes.run(work, ENV, Processes.siteward("restore", tampered.toString(), "--data-dir",
                other.toString()));
        assertEquals(1, bad.exitCode(), bad.both());
        assertTrue(bad.stderr().contains("does not verify"), bad.stderr());
        assertFalse(Files.exists(other), "a refused restore changes nothing");

        Path fresh = work.resolve("new/data");
        Result restore = Processes.run(work, ENV, Processes.siteward("restore", backup.toString(), "--data-dir",
                fresh.toString()));
        assertEquals(0, restore.exitCode(), restore.both());
        assertTrue(restore.stdout().contains("token epoch advanced: "), restore.stdout());

        try (GatewayProcess gw = GatewayProcess.start(fresh, ENV)) {
            Result who = whoami(gw, fresh.resolve("admin/root.pem"), cert, work.resolve("lamp.key"));
            assertTrue(who.stdout().contains("lamp-1"), "the device works without re-enrolling: " + who.both());
            String[] status = new String[1];
            assertEquals(null, enroll(gw, "lamp2", "lamp-2", spare, status));
            assertTrue(status[0].startsWith("4"), "a token unused at backup time does not open: " + status[0]);
            Result list = gw.cli("device", "list");
            assertTrue(list.stdout().contains("lamp-1"), list.stdout());
            String[] fresh2 = new String[1];
            assertTrue(enroll(gw, "lamp3", "lamp-3", gw.cli("token", "create", "--device-id", "lamp-3").stdout()
                    .strip(), fresh2) != null, "new tokens work: " + fresh2[0]);
            // the audit chain taken while devices enrolled verifies on the restored site, with its records and head
            Result audit = gw.cli("audit", "verify");
            assertEquals(0, audit.exitCode(), "audit verify on the restored gateway: " + audit.both());
            for (String f : List.of("gateway/audit.pem", "gateway/release.pem", "gateway/grant.pem")) {
                assertTrue(Files.isRegularFile(fresh.resolve(f)), "restored " + f);
            }
            // the model repository came back: listed, released to the lamp, and its blob downloads intact
            Result models = gw.cli("model", "list");
            assertEquals(0, models.exitCode(), models.both());
            assertTrue(models.stdout().contains("vision/lamp-detector"), models.stdout());
            Path root = fresh.resolve("admin/root.pem");
            assertTrue(releaseMetadata(gw, root, cert).contains(onnxSha), "still released to the lamp");
            Path download = work.resolve("restored-model.onnx");
            Result blob = asLamp(gw, root, cert, "/v1/models/blobs/" + onnxSha, "-o", download.toString());
            assertEquals("200", httpStatus(blob), blob.both());
            assertEquals(onnxSha, sha256(Files.readAllBytes(download)), "the blob's digest is intact");
            assertTrue(java.util.Arrays.equals(onnx, Files.readAllBytes(download)));
            // so did the policy bundle and its retention rule, and the record kept under it
            Result policy = gw.cli("policy", "status");
            assertEquals(0, policy.exitCode(), policy.both());
            assertTrue(policy.stdout().contains("version 3"), policy.stdout());
            Result retention = gw.cli("retention", "report");
            assertEquals(0, retention.exitCode(), retention.both());
            String readings = retention.stdout().lines().filter(l -> l.startsWith("sensor-readings")).findFirst()
                    .orElseThrow(() -> new AssertionError(retention.stdout()));
            assertTrue(readings.matches("sensor-readings\\s+90d\\s+1\\s.*"), readings);
        }
    }
}
