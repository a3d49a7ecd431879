package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.Certificates;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issuing-CA rotation: a new generation issues, earlier ones stay trusted with their own CRLs, across reopen. */
class RotationTest {

    @TempDir
    Path dir;

    @Test
    void rotationIssuesFromTheNewGenerationWhileTheOldOneStaysTrustedWithItsOwnCrl() throws Exception {
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(MutableClock.atSystemTime())
                .crlUrl("https://gw.example:8443/crl").build()) {
            SiteCa ca = pki.ca();
            TestIdentity before = pki.issueDevice("pump-1");
            X509Certificate firstIssuer = ca.issuingCertificate();
            assertEquals(2, ca.rotate());
            X509Certificate secondIssuer = ca.issuingCertificate();
            assertNotEquals(firstIssuer, secondIssuer);
            assertTrue(secondIssuer.getSubjectX500Principal().getName().contains("Issuing CA 2"));
            secondIssuer.verify(ca.root().getPublicKey());
            assertEquals(2, ca.issuingCertificates().size());
            assertEquals(secondIssuer, ca.issuingCertificates().get(0), "the current generation comes first");

            TestIdentity after = pki.issueDevice("pump-2");
            after.certificate().verify(secondIssuer.getPublicKey());
            assertEquals(secondIssuer, ca.issuerOf(after.certificate()));
            assertEquals(firstIssuer, ca.issuerOf(before.certificate()));
            byte[] dp = after.certificate().getExtensionValue("2.5.29.31");
            assertTrue(new String(dp, java.nio.charset.StandardCharsets.ISO_8859_1).contains("/crl/2"),
                    "the new generation's CRL has its own URL");

            ca.revoke(before.serial(), RevocationReason.SUPERSEDED);
            ca.revoke(after.serial(), RevocationReason.KEY_COMPROMISE);
            X509CRL oldCrl = ca.crl(1);
            X509CRL newCrl = ca.crl(2);
            oldCrl.verify(firstIssuer.getPublicKey());
            newCrl.verify(secondIssuer.getPublicKey());
            assertNotNull(oldCrl.getRevokedCertificate(before.serial()));
            assertEquals(null, oldCrl.getRevokedCertificate(after.serial()), "each CRL lists its own generation");
            assertNotNull(newCrl.getRevokedCertificate(after.serial()));
            assertEquals(newCrl, ca.crl(), "crl() is the current generation's");

            try (SiteCa reopened = pki.reopen()) {
                assertEquals(2, reopened.issuingGeneration());
                assertEquals(2, reopened.issuingCertificates().size());
                assertEquals(secondIssuer, reopened.issuingCertificate());
                assertNotNull(reopened.crl(1).getRevokedCertificate(before.serial()));
            }
        }
    }

    @Test
    void expiredGenerationsAreNoLongerTrustedAndRotationNeedsTheRootKey() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(clock).issuingTtl(Duration.ofDays(400))
                .build()) {
            pki.ca().rotate();
            clock.advance(Duration.ofDays(500));
            assertEquals(1, pki.ca().issuingCertificates().size(), "generation 1 expired: no longer trusted");
        }
        try (TestPki offline = TestPki.builder(dir.resolve("offline")).build()) {
            Path exported = dir.resolve("root-key.pem");
            Files.move(offline.dataDir().resolve("ca/root-key.pem"), exported);
            PkiException e = assertThrows(PkiException.class, () -> offline.ca().rotate());
            assertEquals(PkiException.Reason.KEY_UNAVAILABLE, e.reason());
            assertEquals(1, offline.ca().issuingGeneration(), "nothing changed");
            assertTrue(Certificates.fingerprint(offline.root()).startsWith("sha256:"));
        }
    }

    @Test
    void anEarlierGenerationStaysTrustedWhileALeafItIssuedIsValidAndIsRetiredAfterTheLastOneExpires()
            throws Exception {
        MutableClock clock = MutableClock.atDefaultStart();
        try (TestPki pki = TestPki.create(dir.resolve("data"), clock)) {
            SiteCa ca = pki.ca();
            X509Certificate first = ca.issuingCertificate();
            pki.issueDevice("pump-1");
            clock.advance(Duration.ofDays(10));
            TestIdentity last = pki.issueDevice("pump-2");
            ca.rotate();
            X509Certificate second = ca.issuingCertificate();
            pki.issueDevice("pump-3");

            clock.set(last.certificate().getNotAfter().toInstant().minusSeconds(1));
            assertEquals(List.of(second, first), ca.issuingCertificates(), "trusted while pump-2 is valid");
            SiteCa.IssuingGeneration old = ca.generations().get(1);
            assertEquals(1, old.number());
            assertFalse(old.retired());
            assertEquals(last.certificate().getNotAfter().toInstant(), old.trustedUntil(),
                    "trusted until its last certificate expires, not until its own expiry");

            clock.set(last.certificate().getNotAfter().toInstant());
            assertEquals(List.of(second), ca.issuingCertificates(), "retired once its last certificate expired");
            assertTrue(ca.generations().get(1).retired());
            assertFalse(ca.generations().get(0).retired(), "the current generation is never retired");
            try (SiteCa reopened = pki.reopen()) {
                assertEquals(List.of(second), reopened.issuingCertificates(), "retirement is read from the registry");
                clock.advance(Duration.ofDays(-1));
                assertEquals(List.of(second, first), reopened.issuingCertificates());
            }
        }
    }

    @Test
    void aGenerationThatIssuedNothingIsRetiredAsSoonAsItIsReplaced() throws Exception {
        try (TestPki pki = TestPki.create(dir.resolve("data"), MutableClock.atDefaultStart())) {
            pki.ca().rotate();
            pki.ca().rotate();
            assertEquals(1, pki.ca().issuingCertificates().size());
            assertEquals(3, pki.ca().generations().size());
            assertTrue(pki.ca().generations().get(2).retired());
        }
    }
}
