package dev.siteward.gateway.admins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Admins added, renewed and revoked against a real CA and database; the role is bound to the certificate. */
class AdminDirectoryTest {

    @TempDir
    Path dir;
    MutableClock clock;
    TestPki pki;
    GatewayStore store;
    AdminDirectory admins;
    ClientCertificateVerifier verifier;
    AdminAuthorization authorization;

    @BeforeEach
    void setUp() throws Exception {
        clock = MutableClock.atSystemTime();
        pki = TestPki.create(dir.resolve("data"), clock);
        store = GatewayStore.openEmbedded(dir.resolve("data"));
        admins = new AdminDirectory(store, pki.ca(), new ConnectionTracker(), clock);
        verifier = new ClientCertificateVerifier(() -> List.of(pki.ca().issuingCertificate()), pki.ca().registry(),
                new DeviceRegistry(store, pki.ca().registry(), clock), pki.ca().trustDomain(), clock);
        authorization = new AdminAuthorization(pki.ca().registry(), AdminRouteTable.standard());
    }

    @AfterEach
    void tearDown() {
        store.close();
        pki.close();
    }

    private static byte[] csr(String name) throws Exception {
        return KeyMaterial.certificationRequest(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), name);
    }

    private static X509Certificate leaf(AdminCredential c) throws Exception {
        return PemCodec.parseCertificates(c.chain()).get(0);
    }

    @Test
    void anAddedAdminGetsTheirOwnCertificateWithTheirRoleBoundInTheRegistry() throws Exception {
        AdminCredential c = admins.add("alice", AdminRole.SECURITY, csr("alice"), Duration.ofDays(30), "admin");
        X509Certificate cert = leaf(c);
        assertEquals(new SpiffeId("site.local", SpiffeId.Kind.ADMIN, "alice"), verifier.verify(cert));
        assertEquals(Optional.of(AdminRole.SECURITY), authorization.roleOf(cert));
        assertEquals(Certificates.serialHex(cert.getSerialNumber()), c.admin().serial());
        assertEquals("admin", c.admin().createdBy());
        assertEquals(List.of("alice"), admins.list().stream().map(Admin::name).toList());
        assertEquals(pki.root(), PemCodec.parseCertificates(c.root()).get(0));
        assertTrue(Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant())
                .compareTo(Duration.ofDays(31)) < 0);
    }

    @Test
    void aRevokedAdminIsRefusedAtTheNextRequest() throws Exception {
        AdminCredential c = admins.add("bob", AdminRole.OPERATOR, csr("bob"), null, "admin");
        X509Certificate cert = leaf(c);
        verifier.checkStatus(cert);
        Admin revoked = admins.revoke("bob", RevocationReason.AFFILIATION_CHANGED, "admin");
        assertFalse(revoked.active());
        GatewayException e = assertThrows(GatewayException.class, () -> verifier.checkStatus(cert));
        assertEquals("auth.certificate_revoked", e.reason().code());
        assertThrows(GatewayException.class, () -> admins.revoke("bob", RevocationReason.UNSPECIFIED, "admin"));
    }

    @Test
    void renewingIssuesANewCertificateWithTheSameRoleAndSupersedesTheOldOne() throws Exception {
        AdminCredential first = admins.add("carol", AdminRole.AUDITOR, csr("carol"), null, "admin");
        clock.advance(Duration.ofDays(10));
        AdminCredential second = admins.renew("carol", csr("carol"), null, "admin");
        assertEquals(Optional.of(AdminRole.AUDITOR), authorization.roleOf(leaf(second)));
        assertEquals("auditor", second.admin().role());
        assertEquals(clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), second.admin().renewedAt());
        verifier.checkStatus(leaf(second));
        assertThrows(GatewayException.class, () -> verifier.checkStatus(leaf(first)));
    }

    @Test
    void anActiveAdminCannotBeAddedTwiceButARevokedOneCanReturn() throws Exception {
        admins.add("dave", AdminRole.OPERATOR, csr("dave"), null, "admin");
        GatewayException e = assertThrows(GatewayException.class, () -> admins.add("dave", AdminRole.SECURITY,
                csr("dave"), null, "admin"));
        assertEquals("admin.exists", e.reason().code());
        assertEquals("operator", admins.get("dave").role());
        admins.revoke("dave", RevocationReason.UNSPECIFIED, "admin");
        AdminCredential back = admins.add("dave", AdminRole.SECURITY, csr("dave"), null, "admin");
        assertTrue(back.admin().active());
        assertEquals(Optional.of(AdminRole.SECURITY), authorization.roleOf(leaf(back)));
    }

    @Test
    void badInputIsRefusedAndChangesNothing() throws Exception {
        int before = pki.ca().registry().size();
        assertEquals("request.invalid", assertThrows(GatewayException.class, () -> admins.add("Not Valid",
                AdminRole.OPERATOR, csr("x"), null, "admin")).reason().code());
        assertEquals("request.invalid", assertThrows(GatewayException.class, () -> admins.add("erin",
                AdminRole.BOOTSTRAP, csr("erin"), null, "admin")).reason().code());
        assertEquals("request.invalid", assertThrows(GatewayException.class, () -> admins.add("erin",
                AdminRole.OPERATOR, new byte[] {1, 2, 3}, null, "admin")).reason().code());
        assertEquals("admin.not_found", assertThrows(GatewayException.class, () -> admins.renew("nobody",
                csr("nobody"), null, "admin")).reason().code());
        assertEquals(before, pki.ca().registry().size());
        assertTrue(admins.list().isEmpty());
    }

    @Test
    void theBootstrapAdminIsRecordedWithEveryRoleAndCannotBeRevokedOrRenewedThroughTheDirectory() throws Exception {
        X509Certificate boot = pki.issue(KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256), new IssueRequest(
                csr("admin"), CertificateProfile.ADMIN, "admin", List.of(), List.of(), null, "bootstrap"))
                .certificate();
        Admin a = admins.recordBootstrap(boot);
        assertEquals("bootstrap", a.role());
        assertEquals(AdminRole.BOOTSTRAP, authorization.roleOf(boot).orElseThrow());
        assertEquals("request.conflict", assertThrows(GatewayException.class, () -> admins.revoke("admin",
                RevocationReason.UNSPECIFIED, "admin")).reason().code());
        assertEquals("request.conflict", assertThrows(GatewayException.class, () -> admins.renew("admin",
                csr("admin"), null, "admin")).reason().code());
        assertEquals("admin.exists", assertThrows(GatewayException.class, () -> admins.add("admin",
                AdminRole.OPERATOR, csr("admin"), null, "x")).reason().code());
    }
}
