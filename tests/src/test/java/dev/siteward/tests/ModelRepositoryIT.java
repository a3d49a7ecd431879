package dev.siteward.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.modelsig.Withdrawal;
import dev.siteward.tests.Processes.Result;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
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
 * The model release repository end to end with the real gateway jar: {@code siteward model publish|release|
 * withdraw|list} as an operator runs them (through the running gateway's admin API, files streamed, and on the data
 * dir with the gateway stopped), and a device enrolled with curl and openssl fetching its signed metadata and blobs
 * with curl over mTLS (Range resume, ETag, 404 for what it is not given, a file changed on disk never served whole).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelRepositoryIT {

    private static final Map<String, String> ENV = Map.of("SITEWARD_CA_PASSPHRASE", "model repository passphrase");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;
    static GatewayProcess gateway;
    static Path data;
    static Path root;
    static Path model;
    static byte[] weights;
    static Path onnxBlob;
    static String onnxSha;

    @BeforeAll
    static void publishReleaseAndEnroll() throws Exception {
        Tools.require("openssl", "openssl");
        Tools.require("curl", "curl");
        data = work.resolve("data");
        for (String team : List.of("vision", "audio")) {
            Result r = siteward("model", "keygen", "--out", work.resolve(team).toString(), "--name", team);
            assertEquals(0, r.exitCode(), r.both());
        }
        gateway = GatewayProcess.start(data, ENV);
        root = data.resolve("admin/root.pem");
        for (String team : List.of("vision", "audio")) {
            Result r = gateway.cli("publisher", "add", team + "-team", "--roots",
                    work.resolve(team + "/publisher-cert.pem").toString(), "--models", team + "/*");
            assertEquals(0, r.exitCode(), r.both());
        }
        // 3 MiB of weights: more than the 1 MiB request limit, so the upload must stream
        weights = new byte[3 << 20];
        new Random(7).nextBytes(weights);
        model = model("counter", weights);
        sign(model, "vision", work.resolve("counter.sig"));
        Result pub = gateway.cli("model", "publish", model.toString(), "--signature", work.resolve("counter.sig")
                .toString(), "--name", "vision/counter", "--version", "1");
        assertEquals(0, pub.exitCode(), pub.both());
        assertTrue(pub.stdout().startsWith("published vision/counter version 1: 2 files"), pub.stdout());
        onnxSha = sha256(Files.readAllBytes(model.resolve("model.onnx")));
        onnxBlob = data.resolve("models/blobs/sha256").resolve(onnxSha);
        assertTrue(Files.exists(onnxBlob));
        enroll("cam", "cam-1", "class=camera");
        enroll("mic", "mic-1", "class=microphone");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    static Result siteward(String... args) {
        return Processes.run(work, ENV, Processes.siteward(args));
    }

    static Result run(String... cmd) {
        return Processes.run(work, Map.of(), List.of(cmd));
    }

    static Path model(String name, byte[] w) throws Exception {
        Path m = Files.createDirectories(work.resolve(name));
        Files.write(m.resolve("model.onnx"), onnx(w));
        Files.writeString(m.resolve("siteward-model.yaml"), "entry: model.onnx\ninputs:\n  - name: x\n"
                + "    shape: [1, 4]\noutputs:\n  - name: y\n    shape: [1, 2]\n");
        return m;
    }

    static void sign(Path m, String team, Path out) {
        Result r = siteward("model", "sign", m.toString(), "--key", work.resolve(team + "/publisher-key.pem")
                .toString(), "--cert-chain", work.resolve(team + "/publisher-cert.pem").toString(), "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r.both());
    }

    static void enroll(String name, String id, String labels) throws Exception {
        Path key = work.resolve(name + ".key");
        Path der = work.resolve(name + ".der");
        Result r = run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key.toString(), "-subj", "/CN=" + id, "-outform", "DER", "-out", der.toString());
        assertEquals(0, r.exitCode(), r.both());
        Path b64 = work.resolve(name + ".b64");
        Files.writeString(b64, Base64.getEncoder().encodeToString(Files.readAllBytes(der)));
        r = run("curl", "-sS", "-o", work.resolve(name + ".p7b64").toString(), "-w", "%{http_code}", "--cacert",
                root.toString(), "-H", "Content-Type: application/pkcs10", "-H", "Authorization: Bearer "
                        + gateway.token(id, labels), "--data-binary", "@" + b64,
                gateway.enrollUrl() + "/.well-known/est/simpleenroll");
        assertEquals("200", r.stdout(), r.both());
        Path p7 = work.resolve(name + ".p7");
        Files.write(p7, Base64.getMimeDecoder().decode(Files.readString(work.resolve(name + ".p7b64"))));
        r = run("openssl", "pkcs7", "-inform", "DER", "-in", p7.toString(), "-print_certs", "-out",
                work.resolve(name + ".pem").toString());
        assertEquals(0, r.exitCode(), r.both());
    }

    /** curl as device {@code name}: -sS, status code written last on stdout. */
    static Result curl(String name, String path, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-w", "\n%{http_code}", "--cacert",
                root.toString(), "--cert", work.resolve(name + ".pem").toString(), "--key",
                work.resolve(name + ".key").toString()));
        cmd.addAll(List.of(extra));
        cmd.add(gateway.deviceUrl() + path);
        return Processes.run(work, Map.of(), cmd);
    }

    static String status(Result r) {
        String[] lines = r.stdout().split("\n");
        return lines[lines.length - 1];
    }

    static JsonNode metadata(String device) throws Exception {
        Result r = curl(device, "/v1/models/metadata");
        assertEquals("200", status(r), r.both());
        return verified(r.stdout().lines().findFirst().orElseThrow(), "siteward-release+jwt");
    }

    /** Verifies a JWS with its x5c leaf, checks the leaf chains to the site root, returns the payload. */
    static JsonNode verified(String jws, String typ) throws Exception {
        JWSObject o = JWSObject.parse(jws);
        assertEquals(typ, o.getHeader().getType().getType());
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> chain = new ArrayList<>();
        for (var c : o.getHeader().getX509CertChain()) {
            chain.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(c.decode())));
        }
        X509Certificate siteRoot = PemCodec.parseCertificates(Files.readString(root)).get(0);
        chain.get(0).verify(chain.get(1).getPublicKey());
        chain.get(1).verify(siteRoot.getPublicKey());
        assertTrue(chain.get(0).getSubjectAlternativeNames().toString().contains("/service/release"));
        assertTrue(o.verify(new ECDSAVerifier((ECPublicKey) chain.get(0).getPublicKey())));
        return JSON.readTree(o.getPayload().toString());
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    @Order(1)
    void publishRefusesAnotherTeamATamperedFileAnOlderVersionAndAnUnsignedModel() throws Exception {
        Path other = model("other", new byte[] {1, 2, 3});
        sign(other, "audio", work.resolve("other-audio.sig"));
        Result wrongTeam = gateway.cli("model", "publish", other.toString(), "--signature",
                work.resolve("other-audio.sig").toString(), "--name", "vision/other", "--version", "1");
        assertEquals(1, wrongTeam.exitCode(), wrongTeam.both());
        assertTrue(wrongTeam.stderr().contains("modelsig.untrusted_chain"), wrongTeam.stderr());

        sign(other, "vision", work.resolve("other.sig"));
        Files.write(other.resolve("model.onnx"), onnx(new byte[] {1, 2, 4}));
        Result tampered = gateway.cli("model", "publish", other.toString(), "--signature",
                work.resolve("other.sig").toString(), "--name", "vision/other", "--version", "1");
        assertEquals(1, tampered.exitCode(), tampered.both());
        assertTrue(tampered.stderr().contains("modelsig.digest_mismatch") && tampered.stderr().contains("model.onnx"),
                tampered.stderr());

        Result older = gateway.cli("model", "publish", model.toString(), "--signature",
                work.resolve("counter.sig").toString(), "--name", "vision/counter", "--version", "1");
        assertEquals(2, older.exitCode(), older.both());
        assertTrue(older.stderr().contains("not greater than the last published version 1"), older.stderr());

        Files.writeString(work.resolve("unsigned.sig"), "{}");
        Result unsigned = gateway.cli("model", "publish", model.toString(), "--signature",
                work.resolve("unsigned.sig").toString(), "--name", "vision/counter", "--version", "2");
        assertEquals(1, unsigned.exitCode(), unsigned.both());
        assertTrue(unsigned.stderr().contains("modelsig.malformed_bundle"), unsigned.stderr());
        Result missing = gateway.cli("model", "publish", model.toString(), "--signature",
                work.resolve("nope.sig").toString(), "--name", "vision/counter", "--version", "2");
        assertEquals(2, missing.exitCode(), missing.both());
        assertEquals(1, missing.stderr().strip().lines().count(), missing.stderr());

        Result list = gateway.cli("model", "list", "--json");
        assertEquals(0, list.exitCode(), list.both());
        JsonNode models = JSON.readTree(list.stdout());
        assertEquals(1, models.size(), list.stdout());
        assertEquals(1, models.get(0).get("versions").size());
        assertEquals(0, models.get(0).get("releases").size(), "publishing releases nothing");
        try (var s = Files.list(data.resolve("models/staging"))) {
            assertEquals(0, s.count(), "refused uploads leave nothing staged");
        }
    }

    @Test
    @Order(2)
    void aDeviceSeesOnlyWhatIsReleasedToItsClass() throws Exception {
        assertEquals(0, metadata("cam").get("models").size());
        assertEquals("404", status(curl("cam", "/v1/models/blobs/" + onnxSha, "-o", "/dev/null")));
        Result rel = gateway.cli("model", "release", "vision/counter", "--version", "1", "--channel", "stable",
                "--classes", "camera");
        assertEquals(0, rel.exitCode(), rel.both());
        JsonNode cam = metadata("cam");
        assertEquals("cam-1", cam.get("device").asText());
        assertEquals("vision/counter", cam.at("/models/0/name").asText());
        assertEquals(1, cam.at("/models/0/version").asLong());
        assertTrue(cam.at("/models/0/files").toString().contains(onnxSha));
        assertTrue(Instant.parse(cam.get("expires").asText()).isAfter(Instant.now().plusSeconds(6 * 86400)));
        assertEquals(0, metadata("mic").get("models").size());
        assertEquals("404", status(curl("mic", "/v1/models/blobs/" + onnxSha, "-o", "/dev/null")));
        long v = cam.get("version").asLong();
        assertEquals(v, metadata("cam").get("version").asLong(), "unchanged content keeps its version");

        Result trust = curl("cam", "/v1/models/trust", "-D", work.resolve("trust.h").toString());
        assertEquals("200", status(trust));
        assertTrue(Files.readString(work.resolve("trust.h")).toLowerCase().contains("content-type: application/jose"));
        JsonNode t = verified(trust.stdout().lines().findFirst().orElseThrow(), "siteward-model-trust+jwt");
        assertEquals(cam.get("trustVersion").asLong(), t.get("version").asLong());
        assertEquals(2, t.get("publishers").size());
    }

    @Test
    @Order(3)
    void blobsResumeWithRangeAnswerETagsAndHideUnlistedDigests() throws Exception {
        byte[] onnx = Files.readAllBytes(model.resolve("model.onnx"));
        Path part = work.resolve("download.onnx");
        Files.write(part, java.util.Arrays.copyOf(onnx, 1_000_000));
        Result resume = curl("cam", "/v1/models/blobs/" + onnxSha, "-C", "-", "-o", part.toString(), "-D",
                work.resolve("resume.h").toString());
        assertEquals("206", status(resume), resume.both());
        String headers = Files.readString(work.resolve("resume.h"));
        assertTrue(headers.contains("content-range: bytes 1000000-" + (onnx.length - 1) + "/" + onnx.length)
                || headers.contains("Content-Range: bytes 1000000-" + (onnx.length - 1) + "/" + onnx.length), headers);
        assertArrayEquals(onnx, Files.readAllBytes(part));

        Result full = curl("cam", "/v1/models/blobs/" + onnxSha, "-o", work.resolve("full.onnx").toString(), "-D",
                work.resolve("full.h").toString());
        assertEquals("200", status(full), full.both());
        assertArrayEquals(onnx, Files.readAllBytes(work.resolve("full.onnx")));
        String fh = Files.readString(work.resolve("full.h")).toLowerCase();
        assertTrue(fh.contains("etag: \"sha256:" + onnxSha + "\"") && fh.contains("accept-ranges: bytes"), fh);

        assertEquals("304", status(curl("cam", "/v1/models/blobs/" + onnxSha, "-o", "/dev/null", "-H",
                "If-None-Match: \"sha256:" + onnxSha + "\"")));
        Result bad = curl("cam", "/v1/models/blobs/" + onnxSha, "-r", onnx.length + "-");
        assertEquals("416", status(bad), bad.both());
        Result unknown = curl("cam", "/v1/models/blobs/" + "ab".repeat(32));
        assertEquals("404", status(unknown));
        assertTrue(unknown.stdout().contains("model.not_found"), unknown.stdout());
    }

    @Test
    @Order(4)
    void reportsAreAcceptedAndBadOnesRefused() throws Exception {
        Result ok = curl("cam", "/v1/models/reports", "-H", "Content-Type: application/json", "--data",
                "{\"model\":\"vision/counter\",\"version\":1,\"result\":\"installed\",\"code\":null,"
                        + "\"message\":\"slot b\",\"snapshot\":null}");
        assertEquals("202", status(ok), ok.both());
        Result bad = curl("cam", "/v1/models/reports", "-H", "Content-Type: application/json", "--data",
                "{\"model\":\"vision/counter\",\"version\":1,\"result\":\"maybe\"}");
        assertEquals("400", status(bad), bad.both());
    }

    @Test
    @Order(4)
    void bodiesOverOneMebibyteAreRefusedExceptOnTheUploadRoute() throws Exception {
        Path big = work.resolve("big.json");
        Files.write(big, new byte[(1 << 20) + 1]);
        Result r = curl("cam", "/v1/models/reports", "-H", "Content-Type: application/json", "--data-binary",
                "@" + big);
        assertEquals("413", status(r), r.both());
    }

    @Test
    @Order(5)
    void aWithdrawnReleasePointsTheDeviceBackAndCannotBeReleasedAgain() throws Exception {
        Path v2 = model("counter-v2", new byte[] {5, 6, 7});
        sign(v2, "vision", work.resolve("counter-v2.sig"));
        assertEquals(0, gateway.cli("model", "publish", v2.toString(), "--signature",
                work.resolve("counter-v2.sig").toString(), "--name", "vision/counter", "--version", "2").exitCode());
        assertEquals(0, gateway.cli("model", "release", "vision/counter", "--version", "2", "--channel", "stable",
                "--classes", "camera").exitCode());
        assertEquals(2, metadata("cam").at("/models/0/version").asLong());
        Result signed = siteward("model", "sign-withdrawal", "vision/counter", "--versions", "2", "--reason",
                "bad calibration", "--key", work.resolve("vision/publisher-key.pem").toString(), "--cert-chain",
                work.resolve("vision/publisher-cert.pem").toString(), "--out", work.resolve("withdrawal.sig")
                        .toString());
        assertEquals(0, signed.exitCode(), signed.both());
        byte[] wrongTeam = ModelSigner.withCertificateChain(
                KeyMaterial.readPrivateKey(Files.readString(work.resolve("audio/publisher-key.pem"))),
                PemCodec.parseCertificates(Files.readString(work.resolve("audio/publisher-cert.pem"))))
                .signWithdrawal(Withdrawal.below("vision/counter", 9, Instant.now()));
        Files.write(work.resolve("wrong-team.sig"), wrongTeam);
        Result refused = gateway.cli("model", "withdraw", "--signature", work.resolve("wrong-team.sig").toString());
        assertEquals(1, refused.exitCode(), refused.both());
        assertTrue(refused.stderr().contains("model.untrusted_publisher"), refused.stderr());
        Result w = gateway.cli("model", "withdraw", "--signature", work.resolve("withdrawal.sig").toString());
        assertEquals(0, w.exitCode(), w.both());
        JsonNode cam = metadata("cam");
        assertEquals(1, cam.at("/models/0/version").asLong());
        assertEquals(2, cam.at("/models/0/rollbackFrom").asLong());
        assertEquals(1, cam.get("withdrawals").size());
        Result again = gateway.cli("model", "release", "vision/counter", "--version", "2", "--channel", "beta");
        assertEquals(1, again.exitCode(), again.both());
        assertTrue(again.stderr().contains("model.withdrawn"), again.stderr());
    }

    @Test
    @Order(6)
    void aFileChangedOnDiskAfterPublishIsNeverServedIntact() throws Exception {
        byte[] onnx = Files.readAllBytes(model.resolve("model.onnx"));
        byte[] changed = onnx.clone();
        changed[changed.length - 10] ^= 1;
        Files.write(onnxBlob, changed);
        Path out = work.resolve("changed.onnx");
        Result r = curl("cam", "/v1/models/blobs/" + onnxSha, "-o", out.toString());
        byte[] got = Files.exists(out) ? Files.readAllBytes(out) : new byte[0];
        // a change in the first chunk is refused before any header (500 model.blob_corrupt); a later one cuts the body
        boolean refused = status(r).equals("500")
                && new String(got, java.nio.charset.StandardCharsets.UTF_8).contains("model.blob_corrupt");
        assertTrue(refused || r.exitCode() != 0, "a coded refusal or a cut transfer: " + r.both());
        assertTrue(got.length < onnx.length, "received " + got.length + " of " + onnx.length);
        assertNotEquals(sha256(onnx), sha256(got));
        assertFalse(java.util.Arrays.equals(changed, got));
        assertTrue(gateway.log().contains("no longer matches its digest"), "the gateway logs the changed blob");
        Files.write(onnxBlob, onnx);
    }

    @Test
    @Order(7)
    void publishWorksOnTheDataDirWithTheGatewayStopped() throws Exception {
        gateway.close();
        Path v3 = model("counter-v3", new byte[] {8, 9});
        sign(v3, "vision", work.resolve("counter-v3.sig"));
        Result r = siteward("model", "publish", v3.toString(), "--signature", work.resolve("counter-v3.sig")
                .toString(), "--name", "vision/counter", "--version", "3", "--data-dir", data.toString());
        assertEquals(0, r.exitCode(), r.both());
        Result list = siteward("model", "list", "--data-dir", data.toString());
        assertEquals(0, list.exitCode(), list.both());
        assertTrue(list.stdout().contains("version 3") && list.stdout().contains("version 2")
                && list.stdout().contains("WITHDRAWN") && list.stdout().contains("channel=stable"), list.stdout());
    }

    // ---- a minimal ONNX ModelProto (onnx.proto3 field numbers): input x[1,4], output y[1,2], one initializer

    static byte[] onnx(byte[] w) {
        byte[] tensor = cat(str(8, "w"), msg(9, w));
        byte[] graph = cat(str(2, "g"), msg(5, tensor), msg(11, valueInfo("x", 1, 4)), msg(12, valueInfo("y", 1, 2)));
        return cat(varint(1, 8), msg(7, graph));
    }

    static byte[] valueInfo(String name, long... dims) {
        byte[] shape = new byte[0];
        for (long d : dims) {
            shape = cat(shape, msg(1, varint(1, d)));
        }
        return cat(str(1, name), msg(2, msg(1, cat(varint(1, 1), msg(2, shape)))));
    }

    static byte[] msg(int field, byte[] body) {
        return cat(raw(((long) field << 3) | 2), raw(body.length), body);
    }

    static byte[] str(int field, String s) {
        return msg(field, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] varint(int field, long v) {
        return cat(raw((long) field << 3), raw(v));
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
}
