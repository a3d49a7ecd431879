package dev.siteward.gateway.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.trust.PublisherTrust;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.modelsig.ModelLocation;
import dev.siteward.pki.modelsig.ModelSigner;
import dev.siteward.pki.modelsig.Withdrawal;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {

    static final String SPEC = "entry: model.onnx\ninputs:\n  - name: x\n    shape: [1, 4]\n    type: float32\n"
            + "outputs:\n  - name: y\n    shape: [-1, 2]\npostprocessing:\n  activation: softmax\n"
            + "thresholds:\n  score: 0.5\n";

    @TempDir
    Path data;
    @TempDir
    Path work;

    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    ModelRepository repo;
    KeyPair vision;
    X509Certificate visionCert;
    KeyPair audio;
    X509Certificate audioCert;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atSystemTime();
        pki = TestPki.create(data, clock);
        store = GatewayStore.openEmbedded(data);
        repo = new ModelRepository(store, new BlobStore(data), data, clock, 1L << 30);
        vision = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        visionCert = KeyMaterial.selfSignedCertificate(vision, "vision", clock, Duration.ofDays(365));
        audio = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        audioCert = KeyMaterial.selfSignedCertificate(audio, "audio", clock, Duration.ofDays(365));
        PublisherTrust.none()
                .with(new PublisherTrust.Publisher("vision-team", List.of(visionCert), List.of("vision/*"), false))
                .with(new PublisherTrust.Publisher("audio-team", List.of(audioCert), List.of("audio/*"), false))
                .save(data);
    }

    @AfterEach
    void tearDown() {
        store.close();
        pki.close();
    }

    Path model(String dir, byte[] weights, String spec) throws IOException {
        Path m = Files.createDirectories(work.resolve(dir));
        Files.write(m.resolve("model.onnx"), Onnx.model(weights, false));
        if (spec != null) {
            Files.writeString(m.resolve(ModelSpec.FILE_NAME), spec);
        }
        return m;
    }

    byte[] sign(Path model, KeyPair key, X509Certificate cert) throws Exception {
        return ModelSigner.withCertificateChain(key.getPrivate(), List.of(cert)).sign(ModelLocation.of(model))
                .bundle();
    }

    ModelException refused(ThrowingRunnable r) {
        return assertThrows(ModelException.class, r::run);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    long blobCount() throws IOException {
        try (var s = Files.list(data.resolve("models/blobs/sha256"))) {
            return s.count();
        }
    }

    @Test
    void publishStoresVerifiedFilesByDigestAndReleasesNothing() throws Exception {
        Path m = model("counter", new byte[] {1, 2, 3}, SPEC);
        ModelRepository.Published p = repo.publishLocal(m, null, "vision/counter", 1, sign(m, vision, visionCert));
        assertEquals("vision-team", p.publisher());
        assertEquals(2, p.files());
        List<ModelRepository.ModelSummary> list = repo.list();
        assertEquals(1, list.size());
        assertEquals(1, list.get(0).versions().size());
        assertTrue(list.get(0).releases().isEmpty());
        for (ModelRepository.FileEntry f : list.get(0).versions().get(0).files()) {
            byte[] stored = Files.readAllBytes(data.resolve("models/blobs/sha256").resolve(f.sha256()));
            assertEquals(f.sha256(), HexFormat.of().formatHex(BlobStore.sha256().digest(stored)));
        }
        assertEquals(3, blobCount());
    }

    @Test
    void aModelSignedByAnotherTeamIsRefusedAndNothingIsStored() throws Exception {
        Path m = model("counter", new byte[] {1}, null);
        ModelException e = refused(() -> repo.publishLocal(m, null, "vision/counter", 1, sign(m, audio, audioCert)));
        assertEquals("modelsig.untrusted_chain", e.code());
        assertTrue(repo.list().isEmpty());
        assertEquals(0, blobCount());
    }

    @Test
    void aNameNoPublisherMaySignIsRefused() throws Exception {
        Path m = model("counter", new byte[] {1}, null);
        assertEquals("model.untrusted_publisher", refused(() -> repo.publishLocal(m, null, "lidar/counter", 1,
                sign(m, vision, visionCert))).code());
    }

    @Test
    void aFileChangedAfterSigningIsRefusedWithTheFileNamed() throws Exception {
        Path m = model("counter", new byte[] {1, 2}, SPEC);
        byte[] sig = sign(m, vision, visionCert);
        Files.write(m.resolve("model.onnx"), Onnx.model(new byte[] {1, 3}, false));
        ModelException e = refused(() -> repo.publishLocal(m, null, "vision/counter", 1, sig));
        assertEquals("modelsig.digest_mismatch", e.code());
        assertTrue(e.getMessage().contains("model.onnx"), e.getMessage());
        assertEquals(0, blobCount());
    }

    @Test
    void aVersionNotGreaterThanTheLastIsRefused() throws Exception {
        Path m = model("counter", new byte[] {1}, SPEC);
        byte[] sig = sign(m, vision, visionCert);
        repo.publishLocal(m, null, "vision/counter", 5, sig);
        ModelException e = refused(() -> repo.publishLocal(m, null, "vision/counter", 5, sig));
        assertEquals(ModelException.Kind.CONFLICT, e.kind());
        assertEquals(ModelException.Kind.CONFLICT, refused(() -> repo.publishLocal(m, null, "vision/counter", 4,
                sig)).kind());
    }

    @Test
    void anOnnxFileWithExternalDataIsRefused() throws Exception {
        Path m = Files.createDirectories(work.resolve("ext"));
        Files.write(m.resolve("model.onnx"), Onnx.model(null, true));
        Files.write(m.resolve("weights.bin"), new byte[] {9, 9});
        ModelException e = refused(() -> repo.publishLocal(m, null, "vision/ext", 1, sign(m, vision, visionCert)));
        assertEquals("model.onnx_external_data", e.code());
        assertEquals(0, blobCount());
    }

    @Test
    void aSpecWithAnUnknownKeyOrAWrongInputIsRefused() throws Exception {
        Path a = model("a", new byte[] {1}, SPEC + "colour: blue\n");
        assertEquals("model.spec_invalid", refused(() -> repo.publishLocal(a, null, "vision/a", 1,
                sign(a, vision, visionCert))).code());
        Path b = model("b", new byte[] {1}, SPEC.replace("name: x", "name: images"));
        assertEquals("model.spec_mismatch", refused(() -> repo.publishLocal(b, null, "vision/b", 1,
                sign(b, vision, visionCert))).code());
        Path c = model("c", new byte[] {1}, SPEC.replace("[1, 4]", "[1, 5]"));
        assertEquals("model.spec_mismatch", refused(() -> repo.publishLocal(c, null, "vision/c", 1,
                sign(c, vision, visionCert))).code());
    }

    @Test
    void aSymbolicLinkInTheModelIsRefused() throws Exception {
        Path m = model("linked", new byte[] {1}, null);
        Files.createSymbolicLink(m.resolve("extra.onnx"), m.resolve("model.onnx"));
        assertEquals("modelsig.path_refused", refused(() -> repo.publishLocal(m, null, "vision/linked", 1,
                new byte[] {1})).code());
    }

    @Test
    void loadVerifiedReturnsTheExactBytesThatWereHashedAndRefusesAChangedBlob() throws Exception {
        byte[] weights = new byte[4096];
        new java.util.Random(1).nextBytes(weights);
        Path m = model("counter", weights, SPEC);
        repo.publishLocal(m, null, "vision/counter", 1, sign(m, vision, visionCert));
        ModelRepository.VerifiedModel v = repo.loadVerified("vision/counter", 1);
        assertArrayEquals(Files.readAllBytes(m.resolve("model.onnx")), v.entry());
        assertEquals("y", v.spec().outputs().get(0).name());
        String sha = repo.list().get(0).versions().get(0).files().get(0).sha256();
        Path blob = data.resolve("models/blobs/sha256").resolve(sha);
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length - 1] ^= 1;
        Files.write(blob, bytes);
        assertEquals("modelsig.digest_mismatch", refused(() -> repo.loadVerified("vision/counter", 1)).code());
    }

    @Test
    void releaseMetadataListsTheReleaseWithIncreasingVersionsThatSurviveARestart() throws Exception {
        Path m = model("counter", new byte[] {1}, SPEC);
        byte[] sig1 = sign(m, vision, visionCert);
        repo.publishLocal(m, null, "vision/counter", 1, sig1);
        ReleaseKey key = ReleaseKey.ensure(data, pki.ca(), clock);
        Map<String, Map<String, String>> labels = Map.of("cam-1", Map.of("class", "camera"),
                "mic-1", Map.of("class", "microphone"));
        ReleaseMetadata meta = new ReleaseMetadata(store, repo, key, id -> labels.getOrDefault(id, Map.of()), clock,
                Duration.ofDays(7));
        JsonNode empty = payload(meta.metadata("cam-1").jws(), "siteward-release+jwt");
        assertEquals(0, empty.get("models").size());
        long v0 = empty.get("version").asLong();

        repo.release("vision/counter", 1, "stable", List.of("camera"));
        ReleaseMetadata.Document doc = meta.metadata("cam-1");
        JsonNode p = payload(doc.jws(), "siteward-release+jwt");
        assertEquals(v0 + 1, p.get("version").asLong());
        assertEquals("cam-1", p.get("device").asText());
        assertEquals("vision/counter", p.at("/models/0/name").asText());
        assertEquals(1, p.at("/models/0/version").asLong());
        assertTrue(p.at("/models/0/rollbackFrom").isNull());
        String sigSha = HexFormat.of().formatHex(BlobStore.sha256().digest(sig1));
        assertEquals(sigSha, p.at("/models/0/signature/sha256").asText());
        assertEquals(ReleaseMetadata.sha256(("vision/counter 1 " + sigSha + "\n").getBytes(StandardCharsets.UTF_8)),
                p.get("snapshot").asText());
        assertTrue(doc.digests().contains(sigSha));
        assertEquals(0, payload(meta.metadata("mic-1").jws(), "siteward-release+jwt").get("models").size());

        // same content: same version (same bytes); a restarted gateway keeps counting and, since it signs anew,
        // never serves other bytes under a version a device already accepted
        assertEquals(doc.jws(), meta.metadata("cam-1").jws());
        ReleaseMetadata restarted = new ReleaseMetadata(store, repo, ReleaseKey.ensure(data, pki.ca(), clock),
                id -> labels.getOrDefault(id, Map.of()), clock, Duration.ofDays(7));
        ReleaseMetadata.Document resigned = restarted.metadata("cam-1");
        assertEquals(doc.version() + 1, resigned.version());
        assertEquals(resigned.jws(), restarted.metadata("cam-1").jws());
        clock.advance(Duration.ofDays(4));
        ReleaseMetadata.Document fresh = restarted.metadata("cam-1");
        assertEquals(doc.version() + 2, fresh.version());
        assertEquals(clock.instant().plus(Duration.ofDays(7)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString(), payload(fresh.jws(), "siteward-release+jwt").get("expires").asText());

        JsonNode trust = payload(meta.trust().jws(), "siteward-model-trust+jwt");
        assertEquals(2, trust.get("publishers").size());
    }

    @Test
    void aWithdrawnReleasePointsDevicesBackWithRollbackFromAndCannotBeReleasedAgain() throws Exception {
        Path m = model("counter", new byte[] {1}, SPEC);
        byte[] sig = sign(m, vision, visionCert);
        repo.publishLocal(m, null, "vision/counter", 1, sig);
        repo.publishLocal(m, null, "vision/counter", 2, sig);
        repo.release("vision/counter", 2, "stable", List.of());
        byte[] withdrawal = ModelSigner.withCertificateChain(vision.getPrivate(), List.of(visionCert))
                .signWithdrawal(new Withdrawal("vision/counter", java.util.OptionalLong.empty(), List.of(2L),
                        clock.instant(), "bad calibration"));
        byte[] wrongTeam = ModelSigner.withCertificateChain(audio.getPrivate(), List.of(audioCert))
                .signWithdrawal(Withdrawal.below("vision/counter", 9, clock.instant()));
        assertEquals("model.untrusted_publisher", refused(() -> repo.withdraw(wrongTeam)).code());
        repo.withdraw(withdrawal);
        assertEquals("model.withdrawn", refused(() -> repo.release("vision/counter", 2, "beta", List.of())).code());
        ReleaseMetadata meta = new ReleaseMetadata(store, repo, ReleaseKey.ensure(data, pki.ca(), clock),
                id -> Map.of(), clock, Duration.ofDays(7));
        JsonNode p = payload(meta.metadata("cam-1").jws(), "siteward-release+jwt");
        assertEquals(1, p.at("/models/0/version").asLong());
        assertEquals(2, p.at("/models/0/rollbackFrom").asLong());
        assertEquals(1, p.get("withdrawals").size());
    }

    @Test
    void releasingALowerVersionIsARollback() throws Exception {
        Path m = model("counter", new byte[] {1}, SPEC);
        byte[] sig = sign(m, vision, visionCert);
        repo.publishLocal(m, null, "vision/counter", 1, sig);
        repo.publishLocal(m, null, "vision/counter", 3, sig);
        assertNull(repo.release("vision/counter", 3, "stable", List.of()).rollbackFrom());
        assertEquals(3L, repo.release("vision/counter", 1, "stable", List.of()).rollbackFrom());
        assertNull(repo.release("vision/counter", 3, "stable", List.of()).rollbackFrom());
        assertEquals(ModelException.Kind.NOT_FOUND, refused(() -> repo.release("vision/counter", 2, "stable",
                List.of())).kind());
    }

    @Test
    void theReleaseKeyIsRenewedAtTwoThirdsOfItsLifetime() throws Exception {
        ReleaseKey key = ReleaseKey.ensure(data, pki.ca(), clock);
        X509Certificate first = key.chain().get(0);
        assertTrue(first.getSubjectAlternativeNames().toString().contains("spiffe://")
                && first.getSubjectAlternativeNames().toString().contains("/service/release"));
        Duration life = Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant());
        clock.advance(life.dividedBy(2));
        key.sign("x+jwt", new byte[] {'{', '}'});
        assertEquals(first, key.chain().get(0));
        clock.advance(life.dividedBy(6).plusMinutes(1));
        String jws = key.sign("x+jwt", new byte[] {'{', '}'});
        assertNotEquals(first, key.chain().get(0));
        assertTrue(JWSObject.parse(jws).verify(new ECDSAVerifier((ECPublicKey) key.chain().get(0).getPublicKey())));
        assertEquals(key.chain().get(0), ReleaseKey.ensure(data, pki.ca(), clock).chain().get(0));
    }

    @Test
    void aBlobStreamIsCutWhenTheFileChangedOnDisk() throws Exception {
        byte[] content = new byte[VerifyingBlobStream.CHUNK * 3 + 17];
        new java.util.Random(2).nextBytes(content);
        Path f = work.resolve("blob");
        Files.write(f, content);
        String sha = HexFormat.of().formatHex(BlobStore.sha256().digest(content));
        try (InputStream in = new VerifyingBlobStream(f, 0, content.length - 1, content.length, sha, () -> { })) {
            assertArrayEquals(content, in.readAllBytes());
        }
        try (InputStream in = new VerifyingBlobStream(f, 100, 199, content.length, sha, () -> { })) {
            assertArrayEquals(java.util.Arrays.copyOfRange(content, 100, 200), in.readAllBytes());
        }
        content[content.length - 1] ^= 1;
        Files.write(f, content);
        AtomicBoolean flagged = new AtomicBoolean();
        try (InputStream in = new VerifyingBlobStream(f, 0, 9, content.length, sha, () -> flagged.set(true))) {
            assertThrows(IOException.class, in::readAllBytes);
        }
        assertTrue(flagged.get());
    }

    @Test
    void uploadPathsThatEscapeTheModelAreRefused() throws Exception {
        String id = repo.newUpload();
        for (String bad : List.of("../x", "/etc/passwd", "a//b", "a/./b", "")) {
            assertEquals("modelsig.path_refused", refused(() -> repo.stageFile(id, bad,
                    new ByteArrayInputStream(new byte[1]))).code(), bad);
        }
        assertFalse(Files.exists(work.resolve("x")));
    }

    static JsonNode payload(String jws, String typ) throws Exception {
        JWSObject o = JWSObject.parse(jws);
        assertEquals(typ, o.getHeader().getType().getType());
        List<com.nimbusds.jose.util.Base64> x5c = o.getHeader().getX509CertChain();
        assertEquals(2, x5c.size());
        X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(x5c.get(0).decode()));
        assertTrue(o.verify(new ECDSAVerifier((ECPublicKey) leaf.getPublicKey())));
        return new ObjectMapper().readTree(o.getPayload().toString());
    }
}
