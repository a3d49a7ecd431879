package dev.siteward.pki.ca;

import static dev.siteward.pki.testkit.CertificateFacts.sanCount;
import static dev.siteward.pki.testkit.CertificateFacts.sans;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestKeys;
import dev.siteward.pki.testkit.TestPki;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What the CA decides on its own: names from the request, lifetimes, serials. */
class IssuanceRulesTest {

    @TempDir
    static Path tmp;
    static TestPki pki;

    @BeforeAll
    static void createCa() {
        pki = TestPki.create(tmp, MutableClock.atDefaultStart());
    }

    @AfterAll
    static void closeCa() {
        pki.close();
    }

    private static PkiException refusal(IssueRequest request) {
        int before = pki.ca().registry().size();
        PkiException e = assertThrows(PkiException.class, () -> pki.ca().issue(request));
        assertEquals(before, pki.ca().registry().size(), "a refused request records nothing");
        return e;
    }

    @Test
    void subjectAndSansComeFromTheRequestNotFromTheCsr() throws Exception {
        KeyPair key = TestKeys.p256();
        byte[] csr = TestCsr.forKey(key).subject("CN=alice,O=Siteward Admins")
                .uriSan("spiffe://site.local/admin/root").uriSan("spiffe://evil.example/device/cam-7")
                .dnsSan("gateway.site.local").der();
        X509Certificate cert = pki.ca().issue(IssueRequest.device(csr, "cam-7")).certificate();
        assertEquals("CN=cam-7", cert.getSubjectX500Principal().getName());
        assertEquals(List.of("spiffe://site.local/device/cam-7"), sans(cert, 6));
        assertEquals(1, sanCount(cert));
        assertEquals(List.of(), sans(cert, 2));
    }

    @Test
    void serverCertificateIgnoresDnsNamesClaimedByTheCsr() throws Exception {
        KeyPair key = TestKeys.p256();
        byte[] csr = TestCsr.forKey(key).subject("CN=bank.example").dnsSan("bank.example").der();
        X509Certificate cert = pki.ca().issue(new IssueRequest(csr, CertificateProfile.SERVER, "gw.site.local",
                null, null, null, null)).certificate();
        assertEquals(List.of("gw.site.local"), sans(cert, 2));
        assertEquals("CN=gw.site.local", cert.getSubjectX500Principal().getName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-cam", ".cam", "_cam", "Cam-1", "cam 1", "cam/1", "cam:1", "../etc", "cam\n1",
        "cäm", "cam*", "a123456789012345678901234567890123456789012345678901234567890123"})
    void invalidDeviceIdsAreRefused(String deviceId) {
        PkiException e = refusal(IssueRequest.device(TestCsr.p256Der(), deviceId));
        assertEquals(Reason.NAME_INVALID, e.reason());
        assertTrue(e.reason().badInput());
    }

    @ParameterizedTest
    @EnumSource(value = CertificateProfile.class, names = {"SERVICE", "ADMIN"})
    void invalidServiceAndAdminNamesAreRefused(CertificateProfile profile) {
        for (String bad : List.of("", "Alice", "al ice", "-alice", "alice/x")) {
            PkiException e = refusal(new IssueRequest(TestCsr.p256Der(), profile, bad, null, null, null, null));
            assertEquals(Reason.NAME_INVALID, e.reason(), "name '" + bad + "'");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "cam-01", "cam.v2_x-y",
        "a12345678901234567890123456789012345678901234567890123456789012"})
    void validDeviceIdsUpToSixtyThreeCharactersAreAccepted(String deviceId) throws Exception {
        X509Certificate cert = pki.ca().issue(IssueRequest.device(TestCsr.p256Der(), deviceId)).certificate();
        assertEquals(List.of("spiffe://site.local/device/" + deviceId), sans(cert, 6));
    }

    @Test
    void zeroLifetimeIsRefused() {
        assertEquals(Reason.TTL_INVALID,
                refusal(IssueRequest.device(TestCsr.p256Der(), "cam-ttl").withTtl(Duration.ZERO)).reason());
    }

    @Test
    void negativeLifetimeIsRefused() {
        assertEquals(Reason.TTL_INVALID, refusal(IssueRequest.device(TestCsr.p256Der(), "cam-ttl")
                .withTtl(Duration.ofDays(-1))).reason());
    }

    @Test
    void lifetimeAboveTheMaximumIsRefused() {
        assertEquals(Reason.TTL_INVALID, refusal(IssueRequest.device(TestCsr.p256Der(), "cam-ttl")
                .withTtl(SiteCa.MAX_TTL.plusSeconds(1))).reason());
    }

    @Test
    void badCsrIsRefusedWithTheCsrReasonAndNothingRecorded() {
        assertEquals(Reason.CSR_SIGNATURE_INVALID, refusal(IssueRequest.device(
                TestCsr.forKey(TestKeys.p256()).corruptSignature().der(), "cam-bad")).reason());
        assertEquals(Reason.CSR_REQUESTS_CA, refusal(IssueRequest.device(
                TestCsr.forKey(TestKeys.p256()).requestCa().der(), "cam-bad")).reason());
    }

    @Test
    void serialsArePositiveAbout128BitsAndUniqueOverManyIssuances() throws Exception {
        Set<BigInteger> serials = new HashSet<>();
        serials.add(pki.root().getSerialNumber());
        serials.add(pki.ca().issuingCertificate().getSerialNumber());
        int n = 300;
        byte[] csr = TestCsr.p256Der(); // the same key may be certified repeatedly; serials must still differ
        for (int i = 0; i < n; i++) {
            BigInteger serial = pki.ca().issue(IssueRequest.device(csr, "serial-" + (i % 7))).certificate()
                    .getSerialNumber();
            assertTrue(serial.signum() > 0, "positive");
            assertTrue(serial.bitLength() <= 128, "at most 128 bits: " + serial.bitLength());
            assertTrue(serial.bitLength() >= 96, "random over 128 bits, not small: " + serial.bitLength());
            assertTrue(serials.add(serial), "unique: " + serial.toString(16));
        }
        assertEquals(n + 2, serials.size());
    }
}
