package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Withdrawals are signed and verified like models, and cannot be confused with them. */
class WithdrawalTest {

    private static final Clock CLOCK = Clock.fixed(TestCa.NOW, ZoneOffset.UTC);

    @TempDir
    Path tmp;

    @Test
    void aWithdrawalRoundTripsInCertificateMode() throws Exception {
        TestCa ca = TestCa.create(KeyMaterial.Algorithm.EC_P384, "vision");
        TestCa.Publisher publisher = ca.publisher("vision publisher");
        Withdrawal w = new Withdrawal("vision/people-counter", OptionalLong.of(5), List.of(7L, 6L, 7L),
                Instant.parse("2026-05-31T12:00:00.123Z"), "bad calibration");
        byte[] bundle = ModelSigner.withCertificateChain(publisher.privateKey(), publisher.chain())
                .signWithdrawal(w);
        Withdrawal back = ModelVerifier.trustingRoots(List.of(ca.root)).withClock(CLOCK).verifyWithdrawal(bundle)
                .orThrow();
        assertEquals(w, back);
        assertEquals(List.of(6L, 7L), back.withdrawnVersions());
        assertEquals(Instant.parse("2026-05-31T12:00:00Z"), back.issuedAt());
        assertTrue(back.withdraws(4));
        assertTrue(back.withdraws(7));
        assertFalse(back.withdraws(5));
        assertFalse(back.withdraws(8));
    }

    @Test
    void aTamperedWithdrawalFails() throws Exception {
        var keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        byte[] bundle = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                .signWithdrawal(Withdrawal.below("vision/people-counter", 3, TestCa.NOW));
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        assertTrue(verifier.verifyWithdrawal(bundle).verified());
        byte[] raisedBar = Bundles.withPayload(bundle, p -> new String(p, java.nio.charset.StandardCharsets.UTF_8)
                .replace("\"withdrawnBelow\":3", "\"withdrawnBelow\":9").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        WithdrawalResult r = verifier.verifyWithdrawal(raisedBar);
        assertFalse(r.verified());
        assertEquals(FailureReason.BAD_SIGNATURE, r.failure().orElseThrow().reason());
        int n = Base64.getDecoder().decode(Bundles.parse(bundle).get("dsseEnvelope").get("payload").textValue())
                .length;
        for (int i = 0; i < n; i++) {
            int at = i;
            assertFalse(verifier.verifyWithdrawal(Bundles.withPayload(bundle, p -> Bundles.flip(p, at))).verified());
        }
        assertFalse(ModelVerifier.trustingKey(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256).getPublic())
                .verifyWithdrawal(bundle).verified());
    }

    @Test
    void aWithdrawalIsNotAModelSignatureAndAModelSignatureIsNotAWithdrawal() throws Exception {
        var keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        ModelSigner signer = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic());
        ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
        byte[] withdrawal = signer.signWithdrawal(Withdrawal.below("vision/people-counter", 3, TestCa.NOW));
        assertEquals(FailureReason.WRONG_STATEMENT_TYPE,
                verifier.verifySingleFile(new byte[0], withdrawal).failure().orElseThrow().reason());
        Path file = Files.writeString(tmp.resolve("m.onnx"), "model");
        byte[] model = signer.sign(ModelLocation.of(file)).bundle();
        assertEquals(FailureReason.WRONG_STATEMENT_TYPE,
                verifier.verifyWithdrawal(model).failure().orElseThrow().reason());
    }

    @Test
    void aWithdrawalMustWithdrawSomething() {
        assertThrows(IllegalArgumentException.class,
                () -> new Withdrawal("vision/x", OptionalLong.empty(), List.of(), TestCa.NOW, ""));
    }
}
