package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reference implementation's v1.0.0 signatures verify, and fail after any meaningful one-byte change. */
class GoldenVectorTest {

    private static final Clock CLOCK = Clock.fixed(TestCa.NOW, ZoneOffset.UTC);

    @TempDir
    Path tmp;

    private ModelVerifier rootVerifier() throws Exception {
        return ModelVerifier.trustingRoots(Vectors.root()).withClock(CLOCK);
    }

    private ModelVerifier keyVerifier() throws Exception {
        return ModelVerifier.trustingKey(Vectors.publicKey());
    }

    private static Path certFolder() {
        return Vectors.dir().resolve("v1.0.0-certificate");
    }

    private static Path keyFile() {
        return Vectors.dir().resolve("v1.0.0-elliptic-key/signme-1");
    }

    private static byte[] certBundle() throws Exception {
        return Files.readAllBytes(certFolder().resolve("model.sig"));
    }

    private static byte[] keyBundle() throws Exception {
        return Files.readAllBytes(Vectors.dir().resolve("v1.0.0-elliptic-key/model.sig"));
    }

    private static void assertFails(VerificationResult r, FailureReason reason) {
        assertFalse(r.verified(), "expected failure " + reason + " but verified");
        assertEquals(reason, r.failure().orElseThrow().reason(), r.failure().orElseThrow().message());
    }

    @Test
    void certificateVectorVerifiesWithItsRootOverTheFolder() throws Exception {
        VerificationResult r = rootVerifier().verify(certFolder(), certFolder().resolve("model.sig"));
        assertTrue(r.verified(), r::toString);
        assertEquals("v1.0.0-certificate", r.modelName());
        assertEquals(2, r.fileCount());
        assertEquals(List.of("signme-1", "signme-2"), List.copyOf(r.fileDigests().keySet()));
        assertEquals("61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226", r.rootDigest());
        assertEquals(2, r.signerChain().size());
    }

    @Test
    void certificateVectorVerifiesAtTheSigningCertificateStartAsTheReferenceDoes() throws Exception {
        VerificationResult r = ModelVerifier.trustingRoots(Vectors.root()).validatingAtSigningCertificateStart()
                .verify(certFolder(), certFolder().resolve("model.sig"));
        assertTrue(r.verified(), r::toString);
    }

    @Test
    void keyVectorVerifiesWithItsPublicKeyOverTheSingleFile() throws Exception {
        VerificationResult r = keyVerifier().verify(ModelLocation.of(keyFile()), keyBundle());
        assertTrue(r.verified(), r::toString);
        assertEquals("signme-1", r.modelName());
        assertEquals(1, r.fileCount());
        assertEquals(List.of("."), List.copyOf(r.fileDigests().keySet()));
    }

    @Test
    void keyVectorVerifiesFromTheExactBytesInMemory() throws Exception {
        byte[] content = Files.readAllBytes(keyFile());
        assertTrue(keyVerifier().verifySingleFile(content, keyBundle()).verified());
        assertFails(keyVerifier().verifySingleFile(Bundles.flip(content, 0), keyBundle()),
                FailureReason.DIGEST_MISMATCH);
    }

    @Test
    void certificateVectorFailsAfterAnyOneByteChangeInAModelFile() throws Exception {
        Path model = Vectors.copy("v1.0.0-certificate", tmp);
        for (String name : List.of("signme-1", "signme-2")) {
            byte[] original = Files.readAllBytes(model.resolve(name));
            for (int i = 0; i < original.length; i++) {
                Files.write(model.resolve(name), Bundles.flip(original, i));
                VerificationResult r = rootVerifier().verify(model, model.resolve("model.sig"));
                assertFails(r, FailureReason.DIGEST_MISMATCH);
                assertEquals(List.of(new FileDifference(name, FileDifference.Kind.DIGEST_DIFFERS,
                                r.failure().orElseThrow().differences().get(0).expectedSha256(),
                                r.failure().orElseThrow().differences().get(0).actualSha256())),
                        r.failure().orElseThrow().differences());
            }
            Files.write(model.resolve(name), original);
        }
        assertTrue(rootVerifier().verify(model, model.resolve("model.sig")).verified());
    }

    @Test
    void keyVectorFailsAfterAnyOneByteChangeInTheModelFile() throws Exception {
        Path model = Vectors.copy("v1.0.0-elliptic-key", tmp).resolve("signme-1");
        byte[] bundle = keyBundle();
        byte[] original = Files.readAllBytes(model);
        for (int i = 0; i < original.length; i++) {
            Files.write(model, Bundles.flip(original, i));
            assertFails(keyVerifier().verify(ModelLocation.of(model), bundle), FailureReason.DIGEST_MISMATCH);
        }
    }

    @Test
    void bothVectorsFailAfterAnyOneByteChangeInTheDecodedPayload() throws Exception {
        Path certModel = Vectors.copy("v1.0.0-certificate", tmp);
        for (var e : Map.of(certBundle(), rootVerifier(), keyBundle(), keyVerifier()).entrySet()) {
            int payloadLength = decodedPayload(e.getKey()).length;
            for (int i = 0; i < payloadLength; i++) {
                int at = i;
                byte[] tampered = Bundles.withPayload(e.getKey(), p -> Bundles.flip(p, at));
                assertFails(verifyAgainst(e.getValue(), tampered, certModel), FailureReason.BAD_SIGNATURE);
            }
        }
    }

    private VerificationResult verifyAgainst(ModelVerifier verifier, byte[] bundle, Path certModel) throws Exception {
        boolean certMode = Bundles.parse(bundle).get("verificationMaterial").has("x509CertificateChain");
        return certMode ? verifier.verify(ModelLocation.of(certModel).signatureFile(certModel.resolve("model.sig")),
                bundle) : verifier.verify(ModelLocation.of(keyFile()), bundle);
    }

    private static byte[] certificateDer(byte[] bundle, int index) throws Exception {
        return java.util.Base64.getDecoder().decode(Bundles.parse(bundle).get("verificationMaterial")
                .get("x509CertificateChain").get("certificates").get(index).get("rawBytes").textValue());
    }

    private static byte[] decodedPayload(byte[] bundle) throws Exception {
        return java.util.Base64.getDecoder().decode(
                Bundles.parse(bundle).get("dsseEnvelope").get("payload").textValue());
    }

    @Test
    void bothVectorsFailAfterAnyOneByteChangeInTheSignature() throws Exception {
        Path certModel = Vectors.copy("v1.0.0-certificate", tmp);
        for (var e : Map.of(certBundle(), rootVerifier(), keyBundle(), keyVerifier()).entrySet()) {
            int sigLength = java.util.Base64.getDecoder().decode(Bundles.parse(e.getKey()).get("dsseEnvelope")
                    .get("signatures").get(0).get("sig").textValue()).length;
            for (int i = 0; i < sigLength; i++) {
                int at = i;
                byte[] tampered = Bundles.withSignature(e.getKey(), s -> Bundles.flip(s, at));
                assertFails(verifyAgainst(e.getValue(), tampered, certModel), FailureReason.BAD_SIGNATURE);
            }
        }
    }

    @Test
    void certificateVectorFailsAfterAOneByteChangeInAnyCertificate() throws Exception {
        Path model = Vectors.copy("v1.0.0-certificate", tmp);
        byte[] bundle = certBundle();
        for (int c = 0; c < Bundles.certificateCount(bundle); c++) {
            int length = certificateDer(bundle, c).length;
            for (int i = 0; i < length; i++) {
                int at = i;
                byte[] tampered = Bundles.withCertificate(bundle, c, d -> Bundles.flip(d, at));
                VerificationResult r = rootVerifier().verify(
                        ModelLocation.of(model).signatureFile(model.resolve("model.sig")), tampered);
                assertFalse(r.verified(), "certificate " + c + " byte " + i);
                FailureReason reason = r.failure().orElseThrow().reason();
                assertTrue(reason == FailureReason.UNTRUSTED_CHAIN || reason == FailureReason.BAD_SIGNATURE
                        || reason == FailureReason.UNSUPPORTED_ALGORITHM, reason + " at certificate " + c + " byte " + i);
            }
        }
    }

    @Test
    void certificateVectorFailsWithAnotherRoot() throws Exception {
        TestCa other = TestCa.create(KeyMaterial.Algorithm.EC_P256, "other");
        VerificationResult r = ModelVerifier.trustingRoots(List.of(other.root)).withClock(CLOCK)
                .verify(certFolder(), certFolder().resolve("model.sig"));
        assertFails(r, FailureReason.UNTRUSTED_CHAIN);
        VerificationResult signingCertAsRoot = ModelVerifier.trustingRoots(
                KeyMaterial.readCertificates(Vectors.read("keys/signing-key-cert.pem"))).withClock(CLOCK)
                .verify(certFolder(), certFolder().resolve("model.sig"));
        assertFails(signingCertAsRoot, FailureReason.UNTRUSTED_CHAIN);
    }

    @Test
    void certificateVectorVerifiesWithItsIntermediateConfiguredAsTrustAnchor() throws Exception {
        VerificationResult r = ModelVerifier.trustingRoots(
                KeyMaterial.readCertificates(Vectors.read("keys/int-ca-cert.pem"))).withClock(CLOCK)
                .verify(certFolder(), certFolder().resolve("model.sig"));
        assertTrue(r.verified(), r::toString);
    }

    @Test
    void certificateVectorFailsOutsideItsChainsValidity() throws Exception {
        VerificationResult r = ModelVerifier.trustingRoots(Vectors.root())
                .withClock(Clock.fixed(java.time.Instant.parse("2036-01-01T00:00:00Z"), ZoneOffset.UTC))
                .verify(certFolder(), certFolder().resolve("model.sig"));
        assertFails(r, FailureReason.UNTRUSTED_CHAIN);
    }

    @Test
    void keyVectorFailsWithAnotherKeyAndIgnoresTheKeyHint() throws Exception {
        var other = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P384);
        assertFails(ModelVerifier.trustingKey(other.getPublic()).verify(ModelLocation.of(keyFile()), keyBundle()),
                FailureReason.BAD_SIGNATURE);
        var root = Bundles.parse(keyBundle());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("verificationMaterial").get("publicKey"))
                .put("hint", "0000");
        assertTrue(keyVerifier().verify(ModelLocation.of(keyFile()), Bundles.write(root)).verified());
    }

    @Test
    void certificateVectorInKeyModeNeedsNoChainButTheRootVerifierRefusesAKeyBundle() throws Exception {
        assertFails(rootVerifier().verify(ModelLocation.of(keyFile()), keyBundle()), FailureReason.UNTRUSTED_CHAIN);
    }

    @Test
    void aFileAddedRemovedOrRenamedFailsWithTheRightDifference() throws Exception {
        Path model = Vectors.copy("v1.0.0-certificate", tmp);
        Path sig = model.resolve("model.sig");

        Files.writeString(model.resolve("extra.bin"), "x");
        VerificationResult added = rootVerifier().verify(model, sig);
        assertFails(added, FailureReason.DIGEST_MISMATCH);
        assertEquals(List.of(new FileDifference("extra.bin", FileDifference.Kind.EXTRA, null,
                added.failure().orElseThrow().differences().get(0).actualSha256())),
                added.failure().orElseThrow().differences());
        Files.delete(model.resolve("extra.bin"));

        byte[] two = Files.readAllBytes(model.resolve("signme-2"));
        Files.delete(model.resolve("signme-2"));
        VerificationResult removed = rootVerifier().verify(model, sig);
        assertFails(removed, FailureReason.DIGEST_MISMATCH);
        assertEquals(List.of(new FileDifference("signme-2", FileDifference.Kind.MISSING,
                        "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028", null)),
                removed.failure().orElseThrow().differences());

        Files.write(model.resolve("signme-3"), two);
        VerificationResult renamed = rootVerifier().verify(model, sig);
        assertFails(renamed, FailureReason.DIGEST_MISMATCH);
        var kinds = renamed.failure().orElseThrow().differences().stream()
                .map(d -> d.kind() + " " + d.name()).toList();
        assertEquals(List.of("MISSING signme-2", "EXTRA signme-3"), kinds);
    }

    @Test
    void gitMetadataAndTheSignatureFileAreLeftOut() throws Exception {
        Path model = Vectors.copy("v1.0.0-certificate", tmp);
        Files.createDirectories(model.resolve(".git/objects"));
        Files.writeString(model.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        Files.writeString(model.resolve(".gitattributes"), "* binary\n", StandardCharsets.UTF_8);
        assertTrue(rootVerifier().verify(model, model.resolve("model.sig")).verified());
    }
}
