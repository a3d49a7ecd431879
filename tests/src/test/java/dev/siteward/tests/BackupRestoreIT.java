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
 * device keeps working with its certificate, a token unused at backup time never opens, a changed backup is
 * refused, and a restore over a running gateway's data dir is refused.
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

    @Test
    void aSiteBackedUpWhileServingComesBackOnNewHardwareWithDevicesWorkingAndTokensSpent() throws Exception {
        Tools.require("openssl", "openssl");
        Tools.require("curl", "curl");
        Path data = work.resolve("old/data");
        Files.createDirectories(data.getParent());
        Path backup = work.resolve("site.swbk");
        Path cert;
        String spare;
        try (GatewayProcess gw = GatewayProcess.start(data, ENV)) {
            String[] status = new String[1];
            cert = enroll(gw, "lamp", "lamp-1", gw.cli("token", "create", "--device-id", "lamp-1").stdout().strip(),
                    status);
            assertEquals("200", status[0]);
            spare = gw.cli("token", "create", "--device-id", "lamp-2").stdout().strip();
            Path root = data.resolve("admin/root.pem");

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
        }
    }
}
