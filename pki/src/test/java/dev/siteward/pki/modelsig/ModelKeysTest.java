package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM keys, CSRs and self-signed certificates for the keygen/sign/verify CLI. */
class KeyMaterialTest {

    @TempDir
    Path tmp;

    @Test
    void keygenMaterialSignsAndVerifiesThroughPem() throws Exception {
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        Clock clock = Clock.fixed(TestCa.NOW, ZoneOffset.UTC);
        var cert = KeyMaterial.selfSignedCertificate(keys, "vision publisher", clock, Duration.ofDays(30));
        var csr = KeyMaterial.certificationRequest(keys, "vision publisher");
        assertTrue(KeyMaterial.certificationRequestPem(csr).startsWith("-----BEGIN CERTIFICATE REQUEST-----"));
        assertTrue(KeyMaterial.toPem(keys.getPrivate()).startsWith("-----BEGIN PRIVATE KEY-----"));

        var privateKey = KeyMaterial.readPrivateKey(KeyMaterial.toPem(keys.getPrivate()));
        var chain = KeyMaterial.readCertificates("leading text\n" + KeyMaterial.toPem(cert));
        Path file = Files.writeString(tmp.resolve("m.onnx"), "weights");
        byte[] bundle = ModelSigner.withCertificateChain(privateKey, chain).sign(ModelLocation.of(file)).bundle();
        VerificationResult r = ModelVerifier.trustingRoots(chain).withClock(clock)
                .verify(ModelLocation.of(file), bundle);
        assertTrue(r.verified(), r::toString);

        var publicKey = KeyMaterial.readPublicKey(KeyMaterial.toPem(KeyMaterial.publicKeyOf(privateKey)));
        assertEquals(keys.getPublic(), publicKey);
        assertTrue(ModelVerifier.trustingKey(publicKey).verify(ModelLocation.of(file), bundle).verified());
        assertEquals(List.of(cert), chain);
    }

    @Test
    void theReferencePublicKeyFileWithLeadingTextIsRead() throws Exception {
        var key = Vectors.publicKey();
        assertEquals("ECDSA P-384 SHA-384", SignatureAlgorithms.forKey(key).description());
    }
}
