package dev.siteward.pki.ca;

import static dev.siteward.pki.testkit.CertificateFacts.authorityKeyId;
import static dev.siteward.pki.testkit.CertificateFacts.crlDistributionUris;
import static dev.siteward.pki.testkit.CertificateFacts.sanCount;
import static dev.siteward.pki.testkit.CertificateFacts.sans;
import static dev.siteward.pki.testkit.CertificateFacts.subjectKeyId;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestKeys;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every profile's certificate, as issued by a real site or publisher CA, follows the profile. */
class CertificateProfilesTest {

    private static final String CRL_URL = "http://gateway.site.local:8443/crl";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CODE_SIGNING = "1.3.6.1.5.5.7.3.3";

    @TempDir
    static Path tmp;
    static MutableClock clock;
    static TestPki site;
    static TestPki publisher;

    @BeforeAll
    static void createCas() {
        clock = MutableClock.atDefaultStart();
        site = TestPki.builder(tmp.resolve("site")).clock(clock).crlUrl(CRL_URL).build();
        publisher = TestPki.builder(tmp.resolve("publisher")).clock(clock).kind(CaKind.PUBLISHER).build();
    }

    @AfterAll
    static void closeCas() {
        site.close();
        publisher.close();
    }

    private static X509Certificate issuing() {
        return site.ca().issuingCertificate();
    }

    private static void assertCommonEndEntityShape(X509Certificate cert, X509Certificate issuer) throws Exception {
        cert.verify(issuer.getPublicKey());
        assertEquals(issuer.getSubjectX500Principal(), cert.getIssuerX500Principal());
        assertEquals(-1, cert.getBasicConstraints(), "not a CA");
        assertNotNull(cert.getExtensionValue("2.5.29.19"), "basicConstraints present");
        assertEquals(Set.of("2.5.29.19", "2.5.29.15"), cert.getCriticalExtensionOIDs(),
                "basicConstraints and keyUsage critical, nothing else");
        boolean[] ku = cert.getKeyUsage();
        assertTrue(ku[0], "digitalSignature");
        assertFalse(ku[5] || ku[6], "no keyCertSign or cRLSign");
        assertNotNull(subjectKeyId(cert));
        assertArrayEquals(subjectKeyId(issuer), authorityKeyId(cert), "AKI is the issuer's SKI");
        assertEquals(3, cert.getVersion());
    }

    @Test
    void deviceCertificateFollowsTheDeviceProfile() throws Exception {
        TestIdentity device = site.issueDevice("cam-01");
        X509Certificate cert = device.certificate();
        assertCommonEndEntityShape(cert, issuing());
        assertEquals("CN=cam-01", cert.getSubjectX500Principal().getName());
        assertEquals(List.of("spiffe://site.local/device/cam-01"), sans(cert, 6));
        assertEquals(1, sanCount(cert), "exactly one SAN");
        assertEquals(List.of(CLIENT_AUTH), cert.getExtendedKeyUsage());
        boolean[] ku = cert.getKeyUsage();
        for (int i = 1; i < ku.length; i++) {
            assertFalse(ku[i], "only digitalSignature, bit " + i + " set");
        }
        assertArrayEquals(device.keyPair().getPublic().getEncoded(), cert.getPublicKey().getEncoded());
        assertEquals(List.of(CRL_URL), crlDistributionUris(cert));
        assertEquals("SHA256withECDSA", cert.getSigAlgName());
    }

    @Test
    void deviceCertificateSubjectKeyIdIsDerivedFromItsKey() {
        TestIdentity a = site.issueDevice("ski-a");
        TestIdentity b = site.issueDevice("ski-b");
        assertEquals(20, subjectKeyId(a.certificate()).length);
        assertFalse(java.util.Arrays.equals(subjectKeyId(a.certificate()), subjectKeyId(b.certificate())));
    }

    @Test
    void deviceCertificateLivesThirtyDaysByDefaultAndIsBackdatedOneMinute() {
        X509Certificate cert = site.issueDevice("cam-ttl").certificate();
        Instant now = clock.instant();
        assertEquals(now.plus(Duration.ofDays(30)), cert.getNotAfter().toInstant());
        assertEquals(now.minus(SiteCa.BACKDATE), cert.getNotBefore().toInstant());
    }

    @Test
    void requestedLifetimeIsHonoured() throws Exception {
        KeyPair key = TestKeys.p256();
        IssuedCertificate issued = site.ca().issue(IssueRequest.device(TestCsr.forKey(key).der(), "cam-short")
                .withTtl(Duration.ofHours(12)));
        assertEquals(clock.instant().plus(Duration.ofHours(12)), issued.certificate().getNotAfter().toInstant());
    }

    @Test
    void lifetimeIsCappedAtTheIssuingCaNotAfter() throws Exception {
        KeyPair key = TestKeys.p256();
        IssuedCertificate issued = site.ca().issue(IssueRequest.device(TestCsr.forKey(key).der(), "cam-long")
                .withTtl(Duration.ofDays(3000)));
        assertEquals(issuing().getNotAfter(), issued.certificate().getNotAfter());
        assertTrue(site.ca().registry().find(issued.certificate().getSerialNumber()).orElseThrow().notAfter()
                .equals(issuing().getNotAfter().toInstant()), "the registry records the capped notAfter");
    }

    @Test
    void certificatesHaveNoCrlDistributionPointWhenNoneIsConfigured() {
        // the publisher CA here was created without a CRL URL
        X509Certificate cert = publisher.issue(CertificateProfile.PUBLISHER, "no-crl").certificate();
        assertEquals(List.of(), crlDistributionUris(cert));
        assertNotNull(cert.getExtensionValue("2.5.29.14"));
    }

    @Test
    void deviceCertificatesAreIssuedForEveryAcceptedKeyType() throws Exception {
        for (KeyPair key : List.of(TestKeys.p256(), TestKeys.p384(), TestKeys.ed25519(), TestKeys.rsaShared(2048))) {
            IssuedCertificate issued = site.ca().issue(IssueRequest.device(TestCsr.forKey(key).der(),
                    "cam-" + key.getPublic().getAlgorithm().toLowerCase()));
            assertArrayEquals(key.getPublic().getEncoded(), issued.certificate().getPublicKey().getEncoded());
            assertEquals(List.of(CLIENT_AUTH), issued.certificate().getExtendedKeyUsage());
        }
    }

    @Test
    void serverCertificateCarriesDnsAndIpNamesAndServerAuth() throws Exception {
        TestIdentity server = site.issueServer("Gateway.Site.Local", "gw.site.local", "10.0.0.7", "::1");
        X509Certificate cert = server.certificate();
        assertCommonEndEntityShape(cert, issuing());
        assertEquals("CN=gateway.site.local", cert.getSubjectX500Principal().getName());
        assertEquals(List.of("gateway.site.local", "gw.site.local"), sans(cert, 2));
        assertEquals(2, sans(cert, 7).size());
        assertTrue(sans(cert, 7).contains("10.0.0.7"));
        assertEquals(List.of(), sans(cert, 6), "no URI SAN");
        assertEquals(List.of(SERVER_AUTH), cert.getExtendedKeyUsage());
        assertEquals(clock.instant().plus(CertificateProfile.SERVER.defaultTtl()), cert.getNotAfter().toInstant());
    }

    @Test
    void serverCertificateForAnRsaKeyAlsoAllowsKeyEncipherment() throws Exception {
        KeyPair key = TestKeys.rsaShared(2048);
        X509Certificate cert = site.ca().issue(new IssueRequest(TestCsr.forKey(key).der(), CertificateProfile.SERVER,
                "rsa.site.local", List.of(), List.of(), null, null)).certificate();
        assertTrue(cert.getKeyUsage()[0] && cert.getKeyUsage()[2]);
    }

    @Test
    void serverProfileRefusesAnInvalidDnsName() {
        KeyPair key = TestKeys.p256();
        PkiException e = assertThrows(PkiException.class, () -> site.ca().issue(new IssueRequest(
                TestCsr.forKey(key).der(), CertificateProfile.SERVER, "gw.site.local", List.of("bad_name!"),
                List.of(), null, null)));
        assertEquals(Reason.NAME_INVALID, e.reason());
    }

    @Test
    void serverProfileRefusesMalformedIpAddressesInsteadOfTakingThemForDnsNames() {
        for (String bad : List.of("10.0.0.300", "1.2.3", "010.0.0.1", "1::2::3")) {
            KeyPair key = TestKeys.p256();
            int before = site.ca().registry().size();
            PkiException e = assertThrows(PkiException.class, () -> site.ca().issue(new IssueRequest(
                    TestCsr.forKey(key).der(), CertificateProfile.SERVER, "gw.site.local", List.of(),
                    List.of(bad), null, null)), bad);
            assertEquals(Reason.NAME_INVALID, e.reason(), bad);
            assertEquals(before, site.ca().registry().size());
        }
    }

    @Test
    void dnsAndIpNamesAreRefusedOutsideTheServerProfile() {
        KeyPair key = TestKeys.p256();
        PkiException e = assertThrows(PkiException.class, () -> site.ca().issue(new IssueRequest(
                TestCsr.forKey(key).der(), CertificateProfile.DEVICE, "cam-dns", List.of("cam.site.local"),
                List.of(), null, null)));
        assertEquals(Reason.NAME_INVALID, e.reason());
    }

    @Test
    void serviceCertificateCarriesTheServiceIdentityAndClientAuth() throws Exception {
        X509Certificate cert = site.issue(CertificateProfile.SERVICE, "mqtt-client").certificate();
        assertCommonEndEntityShape(cert, issuing());
        assertEquals("CN=mqtt-client", cert.getSubjectX500Principal().getName());
        assertEquals(List.of("spiffe://site.local/service/mqtt-client"), sans(cert, 6));
        assertEquals(1, sanCount(cert));
        assertEquals(List.of(CLIENT_AUTH), cert.getExtendedKeyUsage());
    }

    @Test
    void adminCertificateCarriesTheAdminIdentityAndItsRoleIsRecorded() throws Exception {
        KeyPair key = TestKeys.p256();
        IssuedCertificate issued = site.ca().issue(new IssueRequest(TestCsr.forKey(key).der(),
                CertificateProfile.ADMIN, "alice", List.of(), List.of(), null, "operator"));
        X509Certificate cert = issued.certificate();
        assertCommonEndEntityShape(cert, issuing());
        assertEquals(List.of("spiffe://site.local/admin/alice"), sans(cert, 6));
        assertEquals(List.of(CLIENT_AUTH), cert.getExtendedKeyUsage());
        RegistryEntry entry = site.ca().registry().find(cert.getSerialNumber()).orElseThrow();
        assertEquals("operator", entry.role());
        assertEquals(CertificateProfile.ADMIN, entry.profile());
        assertEquals("alice", entry.name());
    }

    @Test
    void aRoleIsRefusedOutsideTheAdminProfile() {
        KeyPair key = TestKeys.p256();
        PkiException e = assertThrows(PkiException.class, () -> site.ca().issue(new IssueRequest(
                TestCsr.forKey(key).der(), CertificateProfile.DEVICE, "cam-role", List.of(), List.of(), null,
                "operator")));
        assertEquals(Reason.NAME_INVALID, e.reason());
    }

    @Test
    void publisherCaIssuesPublisherCertificatesForCodeSigning() throws Exception {
        X509Certificate cert = publisher.issue(CertificateProfile.PUBLISHER, "model-team").certificate();
        assertCommonEndEntityShape(cert, publisher.ca().issuingCertificate());
        assertEquals(List.of("spiffe://site.local/publisher/model-team"), sans(cert, 6));
        assertEquals(List.of(CODE_SIGNING), cert.getExtendedKeyUsage());
        assertEquals(clock.instant().plus(Duration.ofDays(365)), cert.getNotAfter().toInstant());
        assertTrue(publisher.ca().issuingCertificate().getSubjectX500Principal().getName().contains("Publisher"));
    }

    @Test
    void siteCaRefusesToIssuePublisherCertificates() {
        KeyPair key = TestKeys.p256();
        PkiException e = assertThrows(PkiException.class, () -> site.ca().issue(new IssueRequest(
                TestCsr.forKey(key).der(), CertificateProfile.PUBLISHER, "model-team", null, null, null, null)));
        assertEquals(Reason.PROFILE_NOT_ALLOWED, e.reason());
    }

    @ParameterizedTest
    @EnumSource(value = CertificateProfile.class, names = {"DEVICE", "SERVER", "SERVICE", "ADMIN"})
    void publisherCaRefusesEverySiteProfile(CertificateProfile profile) {
        KeyPair key = TestKeys.p256();
        int before = publisher.ca().registry().size();
        PkiException e = assertThrows(PkiException.class, () -> publisher.ca().issue(new IssueRequest(
                TestCsr.forKey(key).der(), profile, "somebody", null, null, null, null)));
        assertEquals(Reason.PROFILE_NOT_ALLOWED, e.reason());
        assertEquals(before, publisher.ca().registry().size(), "nothing recorded");
    }

    @Test
    void issuedCertificateComesWithTheCaChainAndIsRecorded() {
        TestIdentity device = site.issueDevice("cam-chain");
        assertEquals(List.of(device.certificate(), issuing(), site.root()), device.chain());
        RegistryEntry entry = site.ca().registry().find(device.serial()).orElseThrow();
        assertEquals(CertificateProfile.DEVICE, entry.profile());
        assertEquals("cam-chain", entry.name());
        assertArrayEquals(device.issued().certificate().getSignature(),
                java.util.Objects.requireNonNull(parse(entry.der())).getSignature());
        assertEquals("spiffe://site.local/device/cam-chain",
                Certificates.spiffeId(device.certificate()).toString());
    }

    private static X509Certificate parse(byte[] der) {
        try {
            return Certificates.parse(der);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
