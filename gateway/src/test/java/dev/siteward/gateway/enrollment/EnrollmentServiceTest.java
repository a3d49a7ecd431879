package dev.siteward.gateway.enrollment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.DeviceStatus;
import dev.siteward.gateway.revocation.RevocationService;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enrollment rules with an injected clock: tokens, single use, retries, re-enrollment, revocation and suspension. */
class EnrollmentServiceTest {

    @TempDir
    Path dir;
    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    DeviceRegistry devices;
    EnrollmentTokens tokens;
    EnrollmentService enrollment;
    ClientCertificateVerifier verifier;
    RevocationService revocation;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atSystemTime();
        pki = TestPki.create(dir.resolve("data"), clock);
        store = GatewayStore.openEmbedded(dir.resolve("data"));
        devices = new DeviceRegistry(store, pki.ca().registry(), clock);
        KeyPair tokenKey = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        tokens = new EnrollmentTokens(store, clock, (ECPrivateKey) tokenKey.getPrivate(),
                (ECPublicKey) tokenKey.getPublic(), "k1", Certificates.fingerprint(pki.root()));
        verifier = new ClientCertificateVerifier(() -> List.of(pki.ca().issuingCertificate()), pki.ca().registry(),
                devices, pki.ca().trustDomain(), clock);
        enrollment = new EnrollmentService(pki.ca(), store, devices, tokens, null, verifier, clock);
        revocation = new RevocationService(pki.ca(), devices, new ConnectionTracker(), clock);
    }

    @AfterEach
    void tearDown() {
        store.close();
        pki.close();
    }

    private static byte[] csr(KeyPair key, String cn) throws Exception {
        return KeyMaterial.certificationRequest(key, cn);
    }

    @Test
    void tokenEnrollsTheDeviceItNamesWithItsLabels() throws Exception {
        String token = tokens.create("valve-1", Map.of("class", "valve"), Duration.ofMinutes(15));
        List<X509Certificate> chain = enrollment.enrollWithToken(csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256),
                "valve-1"), token);
        assertEquals("valve-1", Certificates.spiffeId(chain.get(0)).name());
        assertEquals(pki.ca().issuingCertificate(), chain.get(1));
        assertEquals(DeviceStatus.ACTIVE, devices.get("valve-1").status());
        assertEquals(Map.of("class", "valve"), devices.get("valve-1").labels());
        assertEquals(1, devices.get("valve-1").certificates().size());
    }

    @Test
    void expiredTokenIsRefusedAndStaysUnused() throws Exception {
        String token = tokens.create("valve-2", Map.of(), Duration.ofMinutes(15));
        clock.advance(Duration.ofMinutes(16));
        GatewayException e = assertThrows(GatewayException.class, () -> enrollment.enrollWithToken(
                csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "valve-2"), token));
        assertEquals(GatewayException.Reason.TOKEN_EXPIRED, e.reason());
        assertTrue(devices.find("valve-2").isEmpty(), "nothing recorded");
    }

    @Test
    void tokenSignedByAnotherKeyOrForAnotherSiteIsRefused() throws Exception {
        KeyPair other = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        EnrollmentTokens foreign = new EnrollmentTokens(store, clock, (ECPrivateKey) other.getPrivate(),
                (ECPublicKey) other.getPublic(), "k2", Certificates.fingerprint(pki.root()));
        String forged = foreign.create("valve-3", Map.of(), null);
        assertEquals(GatewayException.Reason.TOKEN_INVALID, assertThrows(GatewayException.class,
                () -> tokens.verify(forged)).reason());
        KeyPair same = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        EnrollmentTokens siteA = new EnrollmentTokens(store, clock, (ECPrivateKey) same.getPrivate(),
                (ECPublicKey) same.getPublic(), "k3", "sha256:" + "00".repeat(32));
        EnrollmentTokens siteB = new EnrollmentTokens(store, clock, (ECPrivateKey) same.getPrivate(),
                (ECPublicKey) same.getPublic(), "k3", Certificates.fingerprint(pki.root()));
        String forOtherSite = siteA.create("valve-3", Map.of(), null);
        assertEquals(GatewayException.Reason.TOKEN_INVALID, assertThrows(GatewayException.class,
                () -> siteB.verify(forOtherSite)).reason(), "the token carries another site's root");
        assertEquals(GatewayException.Reason.TOKEN_MISSING, assertThrows(GatewayException.class,
                () -> tokens.verify(" ")).reason());
        assertEquals(GatewayException.Reason.TOKEN_INVALID, assertThrows(GatewayException.class,
                () -> tokens.verify("a.b.c")).reason());
    }

    @Test
    void secondUseIsRefusedButARetryWithTheSameKeyReturnsTheSameCertificate() throws Exception {
        String token = tokens.create("pump-1", Map.of(), null);
        KeyPair key = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        X509Certificate first = enrollment.enrollWithToken(csr(key, "pump-1"), token).get(0);
        X509Certificate retry = enrollment.enrollWithToken(csr(key, "pump-1"), token).get(0);
        assertEquals(first, retry);
        GatewayException e = assertThrows(GatewayException.class, () -> enrollment.enrollWithToken(
                csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "pump-1"), token));
        assertEquals(GatewayException.Reason.TOKEN_USED, e.reason());
    }

    @Test
    void badCsrDoesNotConsumeTheToken() throws Exception {
        String token = tokens.create("pump-2", Map.of(), null);
        byte[] bad = csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "pump-2");
        bad[bad.length - 2] ^= 1;
        assertEquals(GatewayException.Reason.CSR_INVALID, assertThrows(GatewayException.class,
                () -> enrollment.enrollWithToken(bad, token)).reason());
        enrollment.enrollWithToken(csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "pump-2"), token);
        assertEquals(DeviceStatus.ACTIVE, devices.get("pump-2").status());
    }

    @Test
    void reenrollmentKeepsTheIdentityAndRevokedOrSuspendedDevicesAreRefused() throws Exception {
        String token = tokens.create("cam-1", Map.of(), null);
        X509Certificate cert = enrollment.enrollWithToken(csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256),
                "cam-1"), token).get(0);
        X509Certificate renewed = enrollment.reenroll(csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256),
                "cam-1"), List.of(cert)).get(0);
        assertEquals("cam-1", Certificates.spiffeId(renewed).name());
        assertTrue(!renewed.getPublicKey().equals(cert.getPublicKey()), "key rotated");

        revocation.suspend("cam-1");
        assertEquals(GatewayException.Reason.DEVICE_SUSPENDED, assertThrows(GatewayException.class,
                () -> verifier.checkStatus(renewed)).reason());
        revocation.resume("cam-1");
        assertEquals("cam-1", verifier.checkStatus(renewed).name());

        revocation.revokeDevice("cam-1", RevocationReason.KEY_COMPROMISE);
        GatewayException e = assertThrows(GatewayException.class, () -> enrollment.reenroll(
                csr(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), "cam-1"), List.of(renewed)));
        assertEquals(GatewayException.Reason.CERTIFICATE_REVOKED, e.reason());
        assertEquals(DeviceStatus.REVOKED, devices.get("cam-1").status());
        assertTrue(devices.get("cam-1").certificates().stream().allMatch(c -> c.revokedAt() != null));
    }

    @Test
    void expiredOrForeignClientCertificatesAreRefused() throws Exception {
        var identity = pki.issueDevice("door-1");
        assertEquals("door-1", verifier.verify(identity.certificate()).name());
        try (TestPki other = pki.otherCa(dir.resolve("other"))) {
            var foreign = other.issueDevice("door-1");
            assertEquals(GatewayException.Reason.CERTIFICATE_INVALID, assertThrows(GatewayException.class,
                    () -> verifier.verify(foreign.certificate())).reason());
        }
        clock.advance(Duration.ofDays(31));
        assertEquals(GatewayException.Reason.CERTIFICATE_INVALID, assertThrows(GatewayException.class,
                () -> verifier.verify(identity.certificate())).reason());
    }
}
