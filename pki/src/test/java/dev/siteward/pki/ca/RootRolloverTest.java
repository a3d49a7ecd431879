package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import dev.siteward.pki.validation.CertificateValidationException;
import dev.siteward.pki.validation.ChainValidator;
import dev.siteward.pki.validation.CrlSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Root rollover: a new root cross-signed by the old one, both trusted through the overlap, then retired. */
class RootRolloverTest {

    @TempDir
    Path dir;

    /** Every CRL the CA publishes (each root's and each trusted issuing generation's), by issuer name. */
    static CrlSource crls(SiteCa ca) {
        return new CrlSource() {
            @Override
            public Optional<X509CRL> crlFor(X500Principal issuer) {
                List<X509CRL> all = crlsFor(issuer);
                return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
            }

            @Override
            public List<X509CRL> crlsFor(X500Principal issuer) {
                try {
                    List<X509CRL> out = new ArrayList<>();
                    for (X509CRL c : ca.rootCrls()) {
                        if (c.getIssuerX500Principal().equals(issuer)) {
                            out.add(c);
                        }
                    }
                    for (X509Certificate issuing : ca.issuingCertificates()) {
                        if (issuing.getSubjectX500Principal().equals(issuer)) {
                            out.add(ca.crlOf(issuing));
                        }
                    }
                    return out;
                } catch (PkiException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    private static byte[] ski(X509Certificate c) {
        return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(c.getExtensionValue("2.5.29.14"))
                .getOctets()).getKeyIdentifier();
    }

    private static byte[] aki(X509Certificate c) {
        return AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(c.getExtensionValue("2.5.29.35"))
                .getOctets()).getKeyIdentifier();
    }

    @Test
    void crossCertificateCarriesTheNewRootKeyUnderTheOldRootSignatureWithinTheOldRootValidity() throws Exception {
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(MutableClock.atSystemTime())
                .rootTtl(Duration.ofDays(1000)).build()) {
            SiteCa ca = pki.ca();
            X509Certificate oldRoot = ca.root();
            pki.issueDevice("pump-1");
            assertEquals(2, ca.rotateRoot(null, Duration.ofDays(3650)));
            X509Certificate newRoot = ca.root();
            assertNotEquals(oldRoot, newRoot);
            assertEquals(oldRoot.getSubjectX500Principal(), newRoot.getSubjectX500Principal(),
                    "root generations share the name, so rollover certificates are self-issued");
            newRoot.verify(newRoot.getPublicKey());

            SiteCa.RootState state = ca.rootGenerations().get(0);
            X509Certificate cross = state.crossCertificate();
            X509Certificate link = state.linkCertificate();
            cross.verify(oldRoot.getPublicKey());
            assertEquals(newRoot.getPublicKey(), cross.getPublicKey());
            assertTrue(cross.getBasicConstraints() >= 1, "the cross certificate is a CA that may sign an issuing CA");
            assertTrue(cross.getKeyUsage()[5], "keyCertSign");
            assertArrayEquals(ski(newRoot), ski(cross), "subject key id: the new root's key");
            assertArrayEquals(ski(oldRoot), aki(cross), "authority key id: the old root's key");
            assertFalse(cross.getNotAfter().after(oldRoot.getNotAfter()), "never valid beyond the old root");
            assertTrue(newRoot.getNotAfter().after(oldRoot.getNotAfter()));

            link.verify(newRoot.getPublicKey());
            assertEquals(oldRoot.getPublicKey(), link.getPublicKey());
            assertArrayEquals(ski(oldRoot), ski(link));
            assertArrayEquals(ski(newRoot), aki(link));
            assertTrue(link.getBasicConstraints() >= 1);

            X509Certificate issuing = ca.issuingCertificate();
            issuing.verify(newRoot.getPublicKey());
            assertEquals(2, ca.issuingGeneration(), "the new root brings issuing generation 2");
            assertEquals(List.of(cross, link), ca.rolloverCertificates());
            assertEquals(List.of(newRoot, oldRoot), ca.trustedRoots());
            assertEquals(2, ca.issuingCertificates().size(), "the old issuing CA stays trusted for its leaves");
        }
    }

    @Test
    void leafIssuedAfterTheRolloverValidatesWithTheOldPinAndTheNewPinAndOldLeavesStillValidate() throws Exception {
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(MutableClock.atSystemTime()).build()) {
            SiteCa ca = pki.ca();
            X509Certificate oldRoot = ca.root();
            TestIdentity before = pki.issueDevice("pump-1");
            ca.rotateRoot(null, null);
            X509Certificate newRoot = ca.root();
            TestIdentity after = pki.issueDevice("pump-2");

            List<X509Certificate> served = ca.servedChain(after.certificate());
            assertEquals(List.of(after.certificate(), ca.issuingCertificate()), served.subList(0, 2));
            List<X509Certificate> oldPinPath = new ChainValidator(List.of(oldRoot), crls(ca), pki.clock())
                    .validate(served, ChainValidator.Purpose.CLIENT_AUTH);
            assertEquals(List.of(after.certificate(), ca.issuingCertificate(), ca.rolloverCertificates().get(0),
                    oldRoot), oldPinPath, "leaf, new issuing, new root cross-signed by the old root, old root");
            List<X509Certificate> newPinPath = new ChainValidator(List.of(newRoot), crls(ca), pki.clock())
                    .validate(served, ChainValidator.Purpose.CLIENT_AUTH);
            assertEquals(newRoot, newPinPath.get(newPinPath.size() - 1));
            assertEquals(3, newPinPath.size(), "the new pin needs no rollover certificate");

            List<X509Certificate> oldServed = ca.servedChain(before.certificate());
            new ChainValidator(List.of(oldRoot), crls(ca), pki.clock()).validate(oldServed,
                    ChainValidator.Purpose.CLIENT_AUTH);
            List<X509Certificate> viaLink = new ChainValidator(List.of(newRoot), crls(ca), pki.clock())
                    .validate(oldServed, ChainValidator.Purpose.CLIENT_AUTH);
            assertEquals(ca.rolloverCertificates().get(1), viaLink.get(2), "an old leaf reaches the new root by the "
                    + "link certificate");

            // a foreign root sees none of it
            try (TestPki other = TestPki.create(dir.resolve("other"), pki.clock())) {
                assertThrows(CertificateValidationException.class, () -> new ChainValidator(List.of(other.root()),
                        crls(ca), pki.clock()).validate(served, ChainValidator.Purpose.CLIENT_AUTH));
            }
        }
    }

    @Test
    void rolloverSurvivesAReopenAndCaCertificatesServeBothRootsAndTheRolloverPair() throws Exception {
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(MutableClock.atSystemTime()).build()) {
            X509Certificate oldRoot = pki.root();
            pki.issueDevice("pump-1");
            pki.ca().rotateRoot(null, null);
            X509Certificate newRoot = pki.root();
            X509Certificate issuing = pki.ca().issuingCertificate();
            SiteCa reopened = pki.reopen();
            assertEquals(2, reopened.rootGeneration());
            assertEquals(newRoot, reopened.root());
            assertEquals(issuing, reopened.issuingCertificate());
            List<X509Certificate> cacerts = reopened.caCertificates();
            assertEquals(issuing, cacerts.get(0));
            assertTrue(cacerts.containsAll(List.of(newRoot, oldRoot)));
            assertTrue(cacerts.containsAll(reopened.rolloverCertificates()));
            assertEquals(2, reopened.rootCrls().size());
            reopened.rootCrls().get(0).verify(newRoot.getPublicKey());
            reopened.rootCrls().get(1).verify(oldRoot.getPublicKey());
            Path caDir = SiteCa.caDir(pki.dataDir());
            assertTrue(Files.exists(caDir.resolve("root-2.pem")) && Files.exists(caDir.resolve("cross-2.pem"))
                    && Files.exists(caDir.resolve("link-2.pem")) && Files.exists(caDir.resolve("root-crl-2.pem")));
            assertEquals(newRoot, PemCodec.parseCertificates(Files.readString(caDir.resolve("root-2.pem"))).get(0));
            // the issuing CA can still rotate under the new root
            assertEquals(3, reopened.rotate());
            reopened.issuingCertificate().verify(newRoot.getPublicKey());
        }
    }

    @Test
    void retiringTheOldRootIsRefusedWhileItsLeavesAreValidUnlessForced() throws Exception {
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(MutableClock.atSystemTime()).build()) {
            SiteCa ca = pki.ca();
            X509Certificate oldRoot = ca.root();
            X509Certificate oldIssuing = ca.issuingCertificate();
            TestIdentity before = pki.issueDevice("pump-1");
            assertThrows(PkiException.class, () -> ca.retireRoots(false), "no rollover yet");
            ca.rotateRoot(null, null);
            PkiException refused = assertThrows(PkiException.class, () -> ca.retireRoots(false));
            assertEquals(PkiException.Reason.ROOT_IN_USE, refused.reason());
            assertTrue(ca.trustedRoots().contains(oldRoot), "a refused retirement changes nothing");

            assertEquals(1, ca.retireRoots(true));
            assertEquals(List.of(ca.root()), ca.trustedRoots());
            assertFalse(ca.issuingCertificates().contains(oldIssuing), "its issuing CA goes with it");
            assertEquals(List.of(), ca.rolloverCertificates());
            assertThrows(CertificateValidationException.class, () -> new ChainValidator(ca.issuingCertificates(),
                    crls(ca), pki.clock()).validate(before.chain(), ChainValidator.Purpose.CLIENT_AUTH));
            assertTrue(pki.reopen().rootGenerations().get(1).retired(), "retirement is persisted");
        }
    }

    @Test
    void theOldRootRetiresByItselfWhenItsLastLeafExpires() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(clock).build()) {
            SiteCa ca = pki.ca();
            X509Certificate oldRoot = ca.root();
            TestIdentity before = pki.issueDevice("pump-1");
            ca.rotateRoot(null, null);
            SiteCa.RootState old = ca.rootGenerations().get(1);
            assertFalse(old.retired());
            assertFalse(old.trustedUntil().isBefore(before.certificate().getNotAfter().toInstant()));
            clock.set(before.certificate().getNotAfter().toInstant().plusSeconds(1));
            assertEquals(List.of(ca.root()), ca.trustedRoots());
            assertFalse(ca.trustedRoots().contains(oldRoot));
            assertEquals(1, ca.issuingCertificates().size());
        }
    }

    @Test
    void aSecondRolloverStillLetsTheFirstPinReachTheNewestRootThroughBothCrossCertificates() throws Exception {
        try (TestPki pki = TestPki.builder(dir.resolve("data")).clock(MutableClock.atSystemTime()).build()) {
            SiteCa ca = pki.ca();
            X509Certificate firstRoot = ca.root();
            pki.issueDevice("pump-1");
            ca.rotateRoot(null, null);
            ca.rotateRoot(null, null);
            assertEquals(3, ca.rootGeneration());
            assertEquals(4, ca.rolloverCertificates().size(), "root 2 issued nothing but still bridges 1 and 3");
            TestIdentity latest = pki.issueDevice("pump-3");
            List<X509Certificate> path = new ChainValidator(List.of(firstRoot), crls(ca), pki.clock())
                    .validate(ca.servedChain(latest.certificate()), ChainValidator.Purpose.CLIENT_AUTH);
            assertEquals(5, path.size(), "leaf, issuing 3, cross 3, cross 2, root 1");
            assertEquals(firstRoot, path.get(4));
        }
    }

    @Test
    void aRootKeptOfflineRollsOverOnlyWithItsKeyFileAndARefusalChangesNothing() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        Path data = dir.resolve("offline");
        Path offlineKey = dir.resolve("root-key.pem");
        char[] passphrase = "offline root passphrase".toCharArray();
        CaInitOptions options = new CaInitOptions(CaKind.SITE, CaInitOptions.DEFAULT_TRUST_DOMAIN,
                dev.siteward.pki.KeyType.P256, null, null, offlineKey, CaInitOptions.DEFAULT_ROOT_TTL,
                CaInitOptions.DEFAULT_ISSUING_TTL);
        try (SiteCa ca = SiteCa.initialize(data, options, new CaSecrets(passphrase.clone(), null), clock)) {
            X509Certificate oldRoot = ca.root();
            byte[] before = Files.readAllBytes(SiteCa.caDir(data).resolve("ca.json"));
            PkiException refused = assertThrows(PkiException.class, () -> ca.rotateRoot(null, null));
            assertEquals(PkiException.Reason.KEY_UNAVAILABLE, refused.reason());
            assertTrue(refused.getMessage().contains("--root-key"), refused.getMessage());
            assertArrayEquals(before, Files.readAllBytes(SiteCa.caDir(data).resolve("ca.json")));
            assertEquals(oldRoot, ca.root());
            assertFalse(Files.exists(SiteCa.caDir(data).resolve("root-2.pem")), "nothing half-made");
            assertThrows(PkiException.class, () -> ca.rotateRoot(null, Duration.ofHours(1)),
                    "a root lifetime under a day is refused");

            assertEquals(2, ca.rotateRoot(offlineKey, null));
            ca.rootGenerations().get(0).crossCertificate().verify(oldRoot.getPublicKey());
            assertTrue(ca.rootKeyPresent(), "the new root's key is in the data dir until exported");
        }
    }
}
