package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.tests.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed models from the operator to the device with the real, packaged gateway and device CLI: a publisher signs
 * ({@code siteward model sign}), the operator publishes and releases ({@code siteward model publish|release}), a
 * device enrolled with {@code siteward-device enroll} installs with {@code siteward-device model fetch}; then a
 * newer version, an operator's rollback, and a blob changed on the gateway's disk that the device refuses while it
 * keeps running its current model.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelInstallIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "model install passphrase");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NAME = "vision/counter";

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static Path data;
    static Path device;

    @BeforeAll
    static void gatewayPublisherAndDevice() throws Exception {
        data = work.resolve("data");
        Result keygen = Processes.run(work, ENV, Processes.siteward("model", "keygen", "--out",
                work.resolve("vision").toString(), "--name", "vision"));
        assertEquals(0, keygen.exitCode(), keygen.both());
        gateway = GatewayProcess.start(data, ENV);
        Result add = gateway.cli("publisher", "add", "vision-team", "--roots",
                work.resolve("vision/publisher-cert.pem").toString(), "--models", "vision/*");
        assertEquals(0, add.exitCode(), add.both());
        device = work.resolve("cam-1");
        Result enrolled = device("enroll", "--gateway", gateway.enrollUrl().toString(), "--token",
                gateway.token("cam-1", "class=camera"), "--ca-fingerprint", gateway.rootFingerprint(), "--dir",
                device.toString());
        assertEquals(0, enrolled.exitCode(), enrolled.both());
        assertTrue(enrolled.stdout().contains("pinned the site's model publisher trust (version"), enrolled.stdout());
        assertTrue(Files.exists(device.resolve("models/trust.jws")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    static Result device(String... args) {
        String jar = System.getProperty("siteward.device.jar");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar));
        cmd.addAll(List.of(args));
        return Processes.run(work, Map.of(), cmd);
    }

    static Result fetch() {
        return device("model", "fetch", NAME, "--dir", device.toString());
    }

    static JsonNode status() throws Exception {
        Result r = device("model", "status", "--json", "--dir", device.toString());
        assertEquals(0, r.exitCode(), r.both());
        return JSON.readTree(r.stdout()).path("models").path(NAME);
    }

    /** Writes, signs (as the publisher) and publishes version {@code version}; returns the model.onnx bytes. */
    static byte[] publish(long version) throws Exception {
        byte[] weights = new byte[1 << 20];
        new Random(version).nextBytes(weights);
        Path m = Files.createDirectories(work.resolve("counter-" + version).resolve("counter"));
        byte[] onnx = ModelRepositoryIT.onnx(weights);
        Files.write(m.resolve("model.onnx"), onnx);
        Files.writeString(m.resolve("siteward-model.yaml"), "entry: model.onnx\ninputs:\n  - name: x\n"
                + "    shape: [1, 4]\noutputs:\n  - name: y\n    shape: [1, 2]\n");
        Path sig = work.resolve("counter-" + version + ".sig");
        Result signed = Processes.run(work, ENV, Processes.siteward("model", "sign", m.toString(), "--key",
                work.resolve("vision/publisher-key.pem").toString(), "--cert-chain",
                work.resolve("vision/publisher-cert.pem").toString(), "--out", sig.toString()));
        assertEquals(0, signed.exitCode(), signed.both());
        Result pub = gateway.cli("model", "publish", m.toString(), "--signature", sig.toString(), "--name", NAME,
                "--version", Long.toString(version));
        assertEquals(0, pub.exitCode(), pub.both());
        return onnx;
    }

    static void release(long version) {
        Result r = gateway.cli("model", "release", NAME, "--version", Long.toString(version), "--channel", "stable",
                "--classes", "camera");
        assertEquals(0, r.exitCode(), r.both());
    }

    static byte[] installed(String slot) throws Exception {
        return Files.readAllBytes(device.resolve("models").resolve(NAME).resolve(slot).resolve("model.onnx"));
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static byte[] v1;
    static byte[] v2;

    @Test
    @Order(1)
    void aReleasedModelIsFetchedVerifiedAndInstalledWithTheDeviceCli() throws Exception {
        v1 = publish(1);
        Result nothing = fetch();
        assertEquals(2, nothing.exitCode(), "published, not released: " + nothing.both());
        assertTrue(nothing.stderr().contains("[model.not_released]"), nothing.stderr());

        release(1);
        Result r = fetch();

        assertEquals(0, r.exitCode(), r.both());
        assertTrue(r.stdout().startsWith("installed " + NAME + " version 1 in slot a"), r.stdout());
        assertArrayEquals(v1, installed("a"));
        JsonNode s = status();
        assertEquals(1, s.path("version").asLong(), s.toString());
        assertEquals("installed", s.path("last").path("result").asText());
        Result again = fetch();
        assertEquals(0, again.exitCode(), again.both());
        assertTrue(again.stdout().contains("is current"), again.stdout());
    }

    @Test
    @Order(2)
    void aNewerReleaseGoesToTheOtherSlotAndKeepsThePreviousVersion() throws Exception {
        v2 = publish(2);
        release(2);

        Result r = fetch();

        assertEquals(0, r.exitCode(), r.both());
        assertTrue(r.stdout().startsWith("installed " + NAME + " version 2 in slot b (previous version 1 kept)"),
                r.stdout());
        assertArrayEquals(v2, installed("b"));
        assertArrayEquals(v1, installed("a"));
        assertEquals("b", status().path("active").asText());
    }

    @Test
    @Order(3)
    void anOperatorsRollbackIsInstalledByTheDevice() throws Exception {
        release(1);

        Result r = fetch();

        assertEquals(0, r.exitCode(), r.both());
        assertTrue(r.stdout().startsWith("rolled back " + NAME + " to version 1 in slot a"), r.stdout());
        assertEquals(1, status().path("version").asLong());
    }

    @Test
    @Order(4)
    void aBlobChangedOnTheGatewaysDiskIsRefusedAndTheDeviceKeepsItsModel() throws Exception {
        byte[] v3 = publish(3);
        release(3);
        Path blob = data.resolve("models/blobs/sha256").resolve(sha256(v3));
        byte[] changed = v3.clone();
        changed[changed.length / 2] ^= 0x10;
        Files.write(blob, changed);

        Result r = fetch();

        assertEquals(1, r.exitCode(), r.both());
        assertTrue(r.stderr().strip().endsWith("[model.digest_mismatch]"), r.stderr());
        JsonNode s = status();
        assertEquals(1, s.path("version").asLong(), "still running version 1: " + s);
        assertEquals("refused", s.path("last").path("result").asText());
        assertArrayEquals(v1, installed("a"));

        Files.write(blob, v3);
        Result repaired = fetch();
        assertEquals(0, repaired.exitCode(), repaired.both());
        assertTrue(repaired.stdout().startsWith("installed " + NAME + " version 3 in slot b"), repaired.stdout());
        assertArrayEquals(v3, installed("b"));
    }

    @Test
    @Order(5)
    void aWithdrawnVersionIsReplacedByTheHighestVersionBelowItAndRemembered() throws Exception {
        Path statement = work.resolve("withdraw-3.sig");
        Result signed = Processes.run(work, ENV, Processes.siteward("model", "sign-withdrawal", NAME, "--versions", "3",
                "--reason", "bad calibration", "--key", work.resolve("vision/publisher-key.pem").toString(),
                "--cert-chain", work.resolve("vision/publisher-cert.pem").toString(), "--out", statement.toString()));
        assertEquals(0, signed.exitCode(), signed.both());
        Result withdrawn = gateway.cli("model", "withdraw", "--signature", statement.toString());
        assertEquals(0, withdrawn.exitCode(), withdrawn.both());

        Result r = fetch();

        assertEquals(0, r.exitCode(), r.both());
        assertTrue(r.stdout().startsWith("rolled back " + NAME + " to version 2 in slot a"), r.stdout());
        assertArrayEquals(v2, installed("a"));
        JsonNode s = status();
        assertEquals(2, s.path("version").asLong(), s.toString());
        assertEquals(3, s.path("withdrawn").path("versions").get(0).asLong(), s.toString());
    }
}
