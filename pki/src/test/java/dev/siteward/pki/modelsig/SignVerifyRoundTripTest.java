package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Models signed here verify here, in both modes, and fail after any change. */
class SignVerifyRoundTripTest {

    private static final Clock CLOCK = Clock.fixed(TestCa.NOW, ZoneOffset.UTC);

    @TempDir
    Path tmp;

    private Path model() throws IOException {
        Path m = tmp.resolve("people-counter");
        Files.createDirectories(m.resolve("weights/w"));
        Files.writeString(m.resolve("siteward-model.yaml"), "entry: model.onnx\n");
        Files.write(m.resolve("model.onnx"), bytes(300, 7));
        Files.write(m.resolve("weights/w/x.bin"), bytes(200, 11));
        Files.write(m.resolve("weights/w-1.bin"), bytes(10, 13));
        return m;
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * seed + 3);
        }
        return b;
    }

    private static void assertFails(VerificationResult r, FailureReason reason) {
        assertFalse(r.verified(), "expected " + reason + " but verified");
        assertEquals(reason, r.failure().orElseThrow().reason(), r.failure().orElseThrow().message());
    }

    private static JsonNode statement(byte[] bundle) throws Exception {
        byte[] payload = Base64.getDecoder().decode(Bundles.parse(bundle).get("dsseEnvelope").get("payload")
                .textValue());
        return Json.MAPPER.readTree(payload);
    }

    @ParameterizedTest
    @EnumSource(value = KeyMaterial.Algorithm.class, names = {"EC_P256", "EC_P384"})
    void aModelSignedWithACertificateChainVerifiesToItsRoot(KeyMaterial.Algorithm type) throws Exception {
        TestCa ca = TestCa.create(type, "vision");
        TestCa.Publisher publisher = ca.publisher("vision publisher");
        Path model = model();
        Path sig = model.resolve("model.sig");
        SignedModel signed = ModelSigner.withCertificateChain(publisher.privateKey(), publisher.chain())
                .sign(ModelLocation.of(model).signatureFile(sig));
        signed.writeTo(sig);

        VerificationResult r = ModelVerifier.trustingRoots(List.of(ca.root)).withClock(CLOCK).verify(model, sig);
        assertTrue(r.verified(), r::toString);
        assertEquals("people-counter", r.modelName());
        assertEquals(4, r.fileCount());
        assertEquals(List.of("model.onnx", "siteward-model.yaml", "weights/w/x.bin", "weights/w-1.bin"),
                List.copyOf(r.fileDigests().keySet()), "reference order: by path component, code point");
        assertEquals(publisher.leaf(), r.signerChain().get(0));
        assertEquals(signed.manifest().rootDigest(), r.rootDigest());

        JsonNode bundle = Bundles.parse(signed.bundle());
        assertEquals(SigstoreBundle.MEDIA_TYPE, bundle.get("mediaType").textValue());
        assertEquals(2, bundle.get("verificationMaterial").get("x509CertificateChain").get("certificates").size());
        JsonNode statement = statement(signed.bundle());
        assertEquals("https://in-toto.io/Statement/v1", statement.get("_type").textValue());
        assertEquals("https://model_signing/signature/v1.0", statement.get("predicateType").textValue());
        assertFalse(statement.get("predicate").get("serialization").has("ignore_paths"));

        TestCa other = TestCa.create(type, "other");
        assertFails(ModelVerifier.trustingRoots(List.of(other.root)).withClock(CLOCK).verify(model, sig),
                FailureReason.UNTRUSTED_CHAIN);
    }

    @ParameterizedTest
    @EnumSource(KeyMaterial.Algorithm.class)
    void aModelSignedWithAPublicKeyVerifiesWithThatKey(KeyMaterial.Algorithm type) throws Exception {
        KeyPair keys = KeyMaterial.generate(type);
        Path model = model();
        Path sig = tmp.resolve("model.sig");
        ModelSigner.withPublicKey(keys.getPrivate(), KeyMaterial.publicKeyOf(keys.getPrivate()))
                .sign(ModelLocation.of(model)).writeTo(sig);
        VerificationResult r = ModelVerifier.trustingKey(keys.getPublic()).verify(model, sig);
        assertTrue(r.verified(), r::toString);
        assertEquals(4, r.fileCount());
        assertEquals(ModelSigner.publicKeyHint(keys.getPublic()),
                Bundles.parse(Files.readAllBytes(sig)).get("verificationMaterial").get("publicKey").get("hint")
                        .textValue());
        assertFails(ModelVerifier.trustingKey(KeyMaterial.generate(type).getPublic()).verify(model, sig),
                FailureReason.BAD_SIGNATURE);
    }

    @Test
    void aSingleFileModelIsNamedAfterTheFileWithOneResourceNamedDot() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Path file = tmp.resolve("detector.onnx");
        Files.write(file, bytes(1000, 5));
        SignedModel signed = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .sign(ModelLocation.of(file));
        JsonNode statement = statement(signed.bundle());
        assertEquals("detector.onnx", statement.get("subject").get(0).get("name").textValue());
        assertEquals(".", statement.get("predicate").get("resources").get(0).get("name").textValue());
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        assertTrue(verifier.verify(ModelLocation.of(file), signed.bundle()).verified());
        VerificationResult inMemory = verifier.verifySingleFile(Files.readAllBytes(file), signed.bundle());
        assertTrue(inMemory.verified());
        assertEquals(Map.of(".", signed.manifest().digests().get(".")), inMemory.fileDigests());
    }

    @Test
    void changingAnyByteOfAnyModelFileMakesVerificationFail() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Path model = model();
        SignedModel signed = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .sign(ModelLocation.of(model));
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : signed.manifest().digests().keySet()) {
            files.put(name, Files.readAllBytes(model.resolve(name)));
        }
        assertTrue(verifier.verifyFiles(files, signed.bundle()).verified());
        for (String name : files.keySet()) {
            byte[] original = files.get(name);
            for (int i = 0; i < original.length; i++) {
                Map<String, byte[]> changed = new LinkedHashMap<>(files);
                changed.put(name, Bundles.flip(original, i));
                VerificationResult r = verifier.verifyFiles(changed, signed.bundle());
                assertFails(r, FailureReason.DIGEST_MISMATCH);
                assertEquals(name, r.failure().orElseThrow().differences().get(0).name());
            }
        }
        Path onDisk = model.resolve("weights/w/x.bin");
        byte[] original = Files.readAllBytes(onDisk);
        Files.write(onDisk, Bundles.flip(original, 150));
        assertFails(verifier.verify(ModelLocation.of(model), signed.bundle()), FailureReason.DIGEST_MISMATCH);
    }

    @Test
    void changingAnyByteOfTheSignedPayloadOrSignatureMakesVerificationFail() throws Exception {
        TestCa ca = TestCa.create(KeyMaterial.Algorithm.EC_P256, "vision");
        TestCa.Publisher publisher = ca.publisher("p");
        Path model = model();
        byte[] bundle = ModelSigner.withCertificateChain(publisher.privateKey(), publisher.chain())
                .sign(ModelLocation.of(model)).bundle();
        ModelVerifier verifier = ModelVerifier.trustingRoots(List.of(ca.root)).withClock(CLOCK);
        int payloadLength = Base64.getDecoder().decode(Bundles.parse(bundle).get("dsseEnvelope").get("payload")
                .textValue()).length;
        for (int i = 0; i < payloadLength; i++) {
            int at = i;
            assertFails(verifier.verify(ModelLocation.of(model), Bundles.withPayload(bundle, p -> Bundles.flip(p, at))),
                    FailureReason.BAD_SIGNATURE);
        }
        for (int i = 0; i < 70; i++) {
            int at = i;
            byte[] tampered;
            try {
                tampered = Bundles.withSignature(bundle, s -> Bundles.flip(s, at));
            } catch (ArrayIndexOutOfBoundsException e) {
                break;
            }
            assertFails(verifier.verify(ModelLocation.of(model), tampered), FailureReason.BAD_SIGNATURE);
        }
        for (int c = 0; c < 2; c++) {
            int length = publisher.chain().get(c).getEncoded().length;
            for (int i = 0; i < length; i++) {
                int at = i;
                VerificationResult r = verifier.verify(ModelLocation.of(model),
                        Bundles.withCertificate(bundle, c, d -> Bundles.flip(d, at)));
                assertFalse(r.verified(), "certificate " + c + " byte " + i);
            }
        }
    }

    @Test
    void anExpiredOrNonSigningPublisherCertificateIsRefused() throws Exception {
        TestCa ca = TestCa.create(KeyMaterial.Algorithm.EC_P256, "vision");
        Path model = model();
        TestCa.Publisher expired = ca.publisher("old", TestCa.NOW.minus(Duration.ofHours(20)),
                TestCa.NOW.minus(Duration.ofHours(1)), true);
        byte[] bundle = ModelSigner.withCertificateChain(expired.privateKey(), expired.chain())
                .sign(ModelLocation.of(model)).bundle();
        ModelVerifier verifier = ModelVerifier.trustingRoots(List.of(ca.root)).withClock(CLOCK);
        assertFails(verifier.verify(ModelLocation.of(model), bundle), FailureReason.UNTRUSTED_CHAIN);
        assertTrue(verifier.validatingAtSigningCertificateStart().verify(ModelLocation.of(model), bundle).verified());

        TestCa.Publisher noSign = ca.publisher("enc", TestCa.NOW.minus(Duration.ofDays(1)),
                TestCa.NOW.plus(Duration.ofDays(1)), false);
        byte[] bundle2 = ModelSigner.withCertificateChain(noSign.privateKey(), noSign.chain())
                .sign(ModelLocation.of(model)).bundle();
        assertFails(verifier.verify(ModelLocation.of(model), bundle2), FailureReason.UNTRUSTED_CHAIN);
    }

    @Test
    void signingWithAKeyThatDoesNotMatchTheCertificateIsRefused() throws Exception {
        TestCa ca = TestCa.create(KeyMaterial.Algorithm.EC_P256, "vision");
        TestCa.Publisher publisher = ca.publisher("p");
        KeyPair stranger = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        ModelSignatureException e = assertThrows(ModelSignatureException.class,
                () -> ModelSigner.withCertificateChain(stranger.getPrivate(), publisher.chain())
                        .sign(ModelLocation.of(model())));
        assertEquals(FailureReason.BAD_SIGNATURE, e.reason());
    }

    @Test
    void aSymbolicLinkInTheModelIsRefusedWhenSigningAndVerifying() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        ModelSigner signer = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic());
        Path model = model();
        byte[] bundle = signer.sign(ModelLocation.of(model)).bundle();

        Path outside = tmp.resolve("outside.bin");
        Files.writeString(outside, "secret");
        Files.createSymbolicLink(model.resolve("link.bin"), outside);
        ModelSignatureException e = assertThrows(ModelSignatureException.class,
                () -> signer.sign(ModelLocation.of(model)));
        assertEquals(FailureReason.PATH_REFUSED, e.reason());
        assertFails(ModelVerifier.trustingKey(keys.getPublic()).verify(ModelLocation.of(model), bundle),
                FailureReason.PATH_REFUSED);
        Files.delete(model.resolve("link.bin"));

        Files.createSymbolicLink(model.resolve("weights/more"), tmp);
        assertEquals(FailureReason.PATH_REFUSED,
                assertThrows(ModelSignatureException.class, () -> signer.sign(ModelLocation.of(model))).reason());
        Files.delete(model.resolve("weights/more"));

        Path linkedModel = tmp.resolve("linked-model");
        Files.createSymbolicLink(linkedModel, model);
        assertEquals(FailureReason.PATH_REFUSED,
                assertThrows(ModelSignatureException.class, () -> signer.sign(ModelLocation.of(linkedModel)))
                        .reason());
    }

    @Test
    void manifestPathsThatEscapeTheModelRootAreRefused() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Path model = model();
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        for (String bad : List.of("../escape.bin", "/etc/passwd", "weights/../../x", "a\\b", "a//b", "./a", "")) {
            Map<String, String> digests = Map.of(bad, "00".repeat(32), "model.onnx", "11".repeat(32));
            byte[] bundle = signRaw(keys, Statements.encodeModel(
                    new ModelManifest("m", new LinkedHashMap<>(digests), List.of()), false));
            VerificationResult r = verifier.verify(ModelLocation.of(model), bundle);
            assertFails(r, FailureReason.PATH_REFUSED);
            assertFalse(verifier.verifyFiles(Map.of(), bundle).verified());
        }
    }

    private static byte[] signRaw(KeyPair keys, byte[] payload) throws Exception {
        SignatureAlgorithms.Algorithm alg = SignatureAlgorithms.forKey(keys.getPublic());
        byte[] sig = SignatureAlgorithms.sign(alg, keys.getPrivate(), null,
                SigstoreBundle.pae(SigstoreBundle.IN_TOTO_PAYLOAD_TYPE, payload));
        return new SigstoreBundle(List.of(), null, SigstoreBundle.IN_TOTO_PAYLOAD_TYPE, payload, sig).toJson();
    }

    @Test
    void ignorePathsGivenWhenSigningAreRecordedAndHonouredWhenVerifying() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Path model = model();
        Files.createDirectories(model.resolve("logs"));
        Files.writeString(model.resolve("logs/train.log"), "epoch 1\n");
        Path sig = model.resolve("model.sig");
        SignedModel signed = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .sign(ModelLocation.of(model).signatureFile(sig).ignorePaths(List.of(Path.of("logs")), model));
        signed.writeTo(sig);
        assertEquals(4, signed.manifest().fileCount());
        JsonNode ignore = statement(signed.bundle()).get("predicate").get("serialization").get("ignore_paths");
        assertEquals(List.of(".git", ".gitattributes", ".github", ".gitignore", "logs", "model.sig"),
                Json.MAPPER.convertValue(ignore, List.class));

        Files.writeString(model.resolve("logs/train.log"), "epoch 2\n");
        Files.writeString(model.resolve("logs/new.log"), "more\n");
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        assertTrue(verifier.verify(model, sig).verified(), "ignore_paths recorded in the signature apply");

        Files.writeString(model.resolve("notes.txt"), "unsigned");
        assertFails(verifier.verify(model, sig), FailureReason.DIGEST_MISMATCH);
        VerificationResult withIgnore = verifier.verify(ModelLocation.of(model).signatureFile(sig)
                .ignorePaths(List.of(model.resolve("notes.txt").toAbsolutePath(), Path.of("/elsewhere/x"))),
                Files.readAllBytes(sig));
        assertTrue(withIgnore.verified(), withIgnore::toString);

        Files.write(model.resolve("siteward-model.yaml"), "entry: evil.onnx\n".getBytes(StandardCharsets.UTF_8));
        VerificationResult ignoringSigned = verifier.verify(ModelLocation.of(model).signatureFile(sig)
                .ignorePaths(List.of(Path.of("notes.txt"), Path.of("siteward-model.yaml")), model),
                Files.readAllBytes(sig));
        assertTrue(ignoringSigned.verified(), ignoringSigned::toString);
        assertFalse(ignoringSigned.fileDigests().containsKey("siteward-model.yaml"),
                "a signed file the caller ignores is not reported as verified");
        assertEquals(3, ignoringSigned.fileCount());
    }

    @Test
    void anUnreadableModelIsAnIoErrorNotAVerificationFailure() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        byte[] bundle = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .sign(ModelLocation.of(model())).bundle();
        assertThrows(NoSuchFileException.class, () -> ModelVerifier.trustingKey(keys.getPublic())
                .verify(ModelLocation.of(tmp.resolve("absent")), bundle));
        assertThrows(NoSuchFileException.class, () -> ModelVerifier.trustingKey(keys.getPublic())
                .verify(tmp.resolve("people-counter"), tmp.resolve("absent.sig")));
    }

    @Test
    void anEmptyModelCannotBeSigned() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Path empty = Files.createDirectories(tmp.resolve("empty/.git"));
        Files.writeString(empty.resolve("HEAD"), "x");
        assertEquals(FailureReason.EMPTY_MODEL, assertThrows(ModelSignatureException.class,
                () -> ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                        .sign(ModelLocation.of(tmp.resolve("empty")))).reason());
    }

    @Test
    void malformedBundlesAreReportedAsSuch() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        for (String bad : List.of("", "[]", "{}", "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.2+json\"}",
                "not json")) {
            VerificationResult r = verifier.verifySingleFile(new byte[0], bad.getBytes(StandardCharsets.UTF_8));
            assertFails(r, FailureReason.MALFORMED_BUNDLE);
        }
        byte[] good = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .sign(ModelLocation.of(model())).bundle();
        String twoSignatures = new String(good, StandardCharsets.UTF_8).replace("\"signatures\":[{",
                "\"signatures\":[{\"sig\":\"AA==\",\"keyid\":\"\"},{");
        assertFails(verifier.verifySingleFile(new byte[0], twoSignatures.getBytes(StandardCharsets.UTF_8)),
                FailureReason.MALFORMED_BUNDLE);
    }

    @Test
    void theBundleDigestIsTheSha256OfTheBundleBytes() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Path model = model();
        byte[] bundle = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .sign(ModelLocation.of(model)).bundle();
        VerificationResult r = ModelVerifier.trustingKey(keys.getPublic()).verify(ModelLocation.of(model), bundle);
        assertEquals(java.util.HexFormat.of().formatHex(FileHasher.sha256(bundle)), r.bundleSha256());
        assertArrayEquals(FileHasher.sha256(Files.readAllBytes(model.resolve("model.onnx"))),
                java.util.HexFormat.of().parseHex(r.fileDigests().get("model.onnx")));
    }
}
