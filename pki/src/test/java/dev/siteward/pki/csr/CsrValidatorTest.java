package dev.siteward.pki.csr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestKeys;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.Random;
import java.util.List;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.junit.jupiter.api.Test;

class CsrValidatorTest {

    private static Reason refusal(byte[] der) {
        return assertThrows(PkiException.class, () -> CsrValidator.validate(der)).reason();
    }

    @Test
    void acceptsP256RequestAndReturnsItsKey() throws Exception {
        KeyPair key = TestKeys.p256();
        ValidatedCsr csr = CsrValidator.validate(TestCsr.forKey(key).der());
        assertArrayEquals(key.getPublic().getEncoded(), csr.spkiDer());
        assertEquals("EC", csr.publicKey().getAlgorithm());
    }

    @Test
    void acceptsP384Request() throws Exception {
        KeyPair key = TestKeys.p384();
        assertArrayEquals(key.getPublic().getEncoded(), CsrValidator.validate(TestCsr.forKey(key).der()).spkiDer());
    }

    @Test
    void acceptsEd25519Request() throws Exception {
        KeyPair key = TestKeys.ed25519();
        assertArrayEquals(key.getPublic().getEncoded(), CsrValidator.validate(TestCsr.forKey(key).der()).spkiDer());
    }

    @Test
    void acceptsRsa2048Request() throws Exception {
        KeyPair key = TestKeys.rsaShared(2048);
        assertEquals("RSA", CsrValidator.validate(TestCsr.forKey(key).der()).publicKey().getAlgorithm());
    }

    @Test
    void acceptsP256RequestSignedWithSha384() throws Exception {
        CsrValidator.validate(TestCsr.forKey(TestKeys.p256()).signatureAlgorithm("SHA384withECDSA").der());
    }

    @Test
    void acceptsRequestWithBasicConstraintsCaFalse() throws Exception {
        CsrValidator.validate(TestCsr.forKey(TestKeys.p256()).basicConstraints(false).der());
    }

    @Test
    void refusesRequestAboveTheSizeCapBeforeParsingIt() {
        byte[] big = new byte[CsrValidator.MAX_CSR_BYTES + 1];
        new Random(1).nextBytes(big);
        assertEquals(Reason.CSR_TOO_LARGE, refusal(big));
    }

    @Test
    void refusesWellFormedRequestPaddedAboveTheSizeCap() {
        byte[] csr = TestCsr.p256Der();
        byte[] padded = Arrays.copyOf(csr, CsrValidator.MAX_CSR_BYTES + 1);
        assertEquals(Reason.CSR_TOO_LARGE, refusal(padded));
    }

    @Test
    void refusesGarbageAsMalformed() {
        byte[] garbage = new byte[300];
        new Random(2).nextBytes(garbage);
        assertEquals(Reason.CSR_MALFORMED, refusal(garbage));
    }

    @Test
    void refusesEmptyAndNullInputAsMalformed() {
        assertEquals(Reason.CSR_MALFORMED, refusal(new byte[0]));
        assertEquals(Reason.CSR_MALFORMED, refusal(null));
    }

    @Test
    void refusesPemTextPassedAsDerAsMalformed() {
        assertEquals(Reason.CSR_MALFORMED, refusal(TestCsr.forKey(TestKeys.p256()).pem().getBytes()));
    }

    @Test
    void refusesTrailingBytesAfterTheRequest() {
        byte[] csr = TestCsr.p256Der();
        byte[] trailing = Arrays.copyOf(csr, csr.length + 2);
        assertEquals(Reason.CSR_MALFORMED, refusal(trailing));
    }

    @Test
    void refusesTruncatedRequest() {
        byte[] csr = TestCsr.p256Der();
        assertEquals(Reason.CSR_MALFORMED, refusal(Arrays.copyOf(csr, csr.length - 5)));
    }

    @Test
    void refusesCorruptedEcdsaSignature() {
        assertEquals(Reason.CSR_SIGNATURE_INVALID,
                refusal(TestCsr.forKey(TestKeys.p256()).corruptSignature().der()));
    }

    @Test
    void refusesCorruptedEd25519Signature() {
        assertEquals(Reason.CSR_SIGNATURE_INVALID,
                refusal(TestCsr.forKey(TestKeys.ed25519()).corruptSignature().der()));
    }

    @Test
    void refusesCorruptedRsaSignature() {
        assertEquals(Reason.CSR_SIGNATURE_INVALID,
                refusal(TestCsr.forKey(TestKeys.rsaShared(2048)).corruptSignature().der()));
    }

    @Test
    void refusesRequestSignedByAnotherKeyForLackOfProofOfPossession() {
        byte[] csr = TestCsr.forKey(TestKeys.p256()).signedBy(TestKeys.p256().getPrivate()).der();
        assertEquals(Reason.CSR_SIGNATURE_INVALID, refusal(csr));
    }

    @Test
    void refusesSha1WithRsa() {
        assertEquals(Reason.CSR_WEAK_ALGORITHM,
                refusal(TestCsr.forKey(TestKeys.rsaShared(2048)).signatureAlgorithm("SHA1withRSA").der()));
    }

    @Test
    void refusesEcdsaWithSha1() {
        assertEquals(Reason.CSR_WEAK_ALGORITHM,
                refusal(TestCsr.forKey(TestKeys.p256()).signatureAlgorithm("SHA1withECDSA").der()));
    }

    @Test
    void refusesMd5WithRsa() {
        assertEquals(Reason.CSR_WEAK_ALGORITHM,
                refusal(TestCsr.forKey(TestKeys.rsaShared(2048)).signatureAlgorithm("MD5withRSA").der()));
    }

    @Test
    void refusesRsaPssWithSha1() {
        assertEquals(Reason.CSR_WEAK_ALGORITHM,
                refusal(TestCsr.forKey(TestKeys.rsaShared(2048)).signatureAlgorithm("SHA1withRSAandMGF1").der()));
    }

    @Test
    void acceptsRsaPssWithSha256() throws Exception {
        CsrValidator.validate(TestCsr.forKey(TestKeys.rsaShared(2048)).signatureAlgorithm("SHA256withRSAandMGF1")
                .der());
    }

    @Test
    void refusesRsaPssWithMissingOrMalformedParametersAsMalformedNotWithAnUncheckedException() throws Exception {
        CertificationRequest valid = CertificationRequest.getInstance(TestCsr.forKey(TestKeys.rsaShared(2048)).der());
        for (AlgorithmIdentifier alg : List.of(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSASSA_PSS),
                new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSASSA_PSS, DERNull.INSTANCE),
                new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSASSA_PSS, new ASN1Integer(5)))) {
            byte[] crafted = new CertificationRequest(valid.getCertificationRequestInfo(), alg, valid.getSignature())
                    .getEncoded("DER");
            assertEquals(Reason.CSR_MALFORMED, refusal(crafted), alg.toString());
        }
    }

    @Test
    void refusesMalformedRequestedBasicConstraintsOrKeyUsageAsMalformed() throws Exception {
        byte[] notTheRightType = new ASN1Integer(1).getEncoded("DER");
        for (String oid : List.of("2.5.29.19", "2.5.29.15")) {
            assertEquals(Reason.CSR_MALFORMED,
                    refusal(TestCsr.forKey(TestKeys.p256()).extension(oid, true, notTheRightType).der()), oid);
        }
    }

    @Test
    void refusesSecp256k1Key() {
        assertEquals(Reason.CSR_KEY_UNSUPPORTED, refusal(TestCsr.forKey(TestKeys.ec("secp256k1")).der()));
    }

    @Test
    void refusesP521Key() {
        assertEquals(Reason.CSR_KEY_UNSUPPORTED,
                refusal(TestCsr.forKey(TestKeys.ec("secp521r1")).signatureAlgorithm("SHA512withECDSA").der()));
    }

    @Test
    void refusesRsa1024Key() {
        assertEquals(Reason.CSR_KEY_UNSUPPORTED, refusal(TestCsr.forKey(TestKeys.rsaShared(1024)).der()));
    }

    @Test
    void refusesRequestForCaRights() {
        assertEquals(Reason.CSR_REQUESTS_CA, refusal(TestCsr.forKey(TestKeys.p256()).requestCa().der()));
    }

    @Test
    void refusesRequestForCertificateSigningKeyUsage() {
        assertEquals(Reason.CSR_REQUESTS_CA,
                refusal(TestCsr.forKey(TestKeys.p256()).keyUsage(KeyUsage.keyCertSign).der()));
        assertEquals(Reason.CSR_REQUESTS_CA,
                refusal(TestCsr.forKey(TestKeys.p256()).keyUsage(KeyUsage.digitalSignature | KeyUsage.cRLSign)
                        .der()));
    }

    @Test
    void refusesRequestForNameConstraints() throws Exception {
        byte[] value = new NameConstraints(new GeneralSubtree[] {
            new GeneralSubtree(new GeneralName(GeneralName.dNSName, "site.local"))}, null).getEncoded("DER");
        assertEquals(Reason.CSR_REQUESTS_CA,
                refusal(TestCsr.forKey(TestKeys.p256()).extension("2.5.29.30", true, value).der()));
    }

    @Test
    void anyMutatedByteIsRefusedWithAPkiExceptionAndNeverAnUncheckedOne() {
        List<byte[]> seeds = List.of(
                TestCsr.forKey(TestKeys.p256()).uriSan("spiffe://site.local/device/x").basicConstraints(false).der(),
                TestCsr.forKey(TestKeys.ed25519()).der(),
                // no RSA seed: the NULL parameters of an RSA signature algorithm identifier (outside the signed
                // part) can be re-tagged without effect and are tolerated; harmless, as the CA never copies them
                TestCsr.forKey(TestKeys.p256()).signatureAlgorithm("SHA384withECDSA").der(),
                TestCsr.forKey(TestKeys.p384()).keyUsage(KeyUsage.digitalSignature).der());
        Random random = new Random(20261126);
        for (int i = 0; i < 4000; i++) {
            byte[] seed = seeds.get(i % seeds.size());
            byte[] mutated = seed.clone();
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            if (Arrays.equals(seed, mutated)) {
                continue;
            }
            try {
                CsrValidator.validate(mutated);
                throw new AssertionError("mutation " + i + " was accepted");
            } catch (PkiException expected) {
                // every refusal is a PkiException with a reason
            } catch (RuntimeException e) {
                throw new AssertionError("mutation " + i + " escaped as " + e, e);
            }
        }
    }

    @Test
    void everyRefusalIsBadInputWithAStableCode() {
        PkiException e = assertThrows(PkiException.class,
                () -> CsrValidator.validate(TestCsr.forKey(TestKeys.p256()).corruptSignature().der()));
        assertEquals("csr.signature_invalid", e.code());
        assertEquals(true, e.reason().badInput());
    }
}
