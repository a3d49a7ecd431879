package dev.siteward.pki.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.KeyType;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestCsr;
import dev.siteward.pki.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Creating and opening a CA: keys, passphrases, the offline root, and failures that leave nothing behind. */
class CaInitTest {

    private static final char[] PASSPHRASE = "correct horse battery staple".toCharArray();

    @TempDir
    static Path shared;
    static MutableClock clock;
    static TestPki pki;

    @BeforeAll
    static void createCa() {
        clock = MutableClock.atDefaultStart();
        pki = TestPki.builder(shared).clock(clock).passphrase(new String(PASSPHRASE)).build();
    }

    @AfterAll
    static void closeCa() {
        pki.close();
    }

    private static String mode(Path file) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    private static CaInitOptions options() {
        return CaInitOptions.defaults(CaKind.SITE);
    }

    private static CaInitOptions withRootKeyOut(Path out) {
        CaInitOptions d = options();
        return new CaInitOptions(d.kind(), d.trustDomain(), d.keyType(), null, null, out, d.rootTtl(),
                d.issuingTtl());
    }

    private static long entries(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void createsARootThatSignsOnlyTheIssuingCaAndKeepsKeysEncryptedAndOwnerOnly() throws Exception {
        SiteCa ca = pki.ca();
        X509Certificate root = ca.root();
        X509Certificate issuing = ca.issuingCertificate();
        root.verify(root.getPublicKey());
        issuing.verify(root.getPublicKey());
        assertEquals(1, root.getBasicConstraints(), "root pathLen 1");
        assertEquals(0, issuing.getBasicConstraints(), "issuing CA pathLen 0");
        assertTrue(root.getKeyUsage()[5] && root.getKeyUsage()[6], "keyCertSign and cRLSign");
        assertTrue(root.getSubjectX500Principal().getName().contains("O=site.local"));
        Path dir = ca.directory();
        for (String key : List.of("root-key.pem", "issuing-key.pem")) {
            assertEquals("rw-------", mode(dir.resolve(key)), key);
            String pem = Files.readString(dir.resolve(key));
            assertTrue(pem.contains("BEGIN ENCRYPTED PRIVATE KEY"), key + " is encrypted PKCS#8");
        }
        assertFalse(Files.exists(dir.resolve("passphrase")), "no generated passphrase when one was given");
        assertTrue(ca.generatedPassphraseFile().isEmpty());
        for (String f : List.of("ca.json", "root.pem", "issuing.pem", "crl.pem", "root-crl.pem", "registry.log")) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
        assertEquals("rwx------", mode(shared), "the data dir is owner-only");
        ca.rootCrl().verify(root.getPublicKey());
        assertTrue(ca.rootKeyPresent());
    }

    @Test
    void refusesASecondInitAndLeavesTheFirstCaUntouched() throws Exception {
        byte[] rootPem = Files.readAllBytes(pki.ca().directory().resolve("root.pem"));
        byte[] key = Files.readAllBytes(pki.ca().directory().resolve("root-key.pem"));
        PkiException e = assertThrows(PkiException.class, () -> SiteCa.initialize(shared, options(),
                new CaSecrets(PASSPHRASE.clone(), null), clock));
        assertEquals(Reason.CA_ALREADY_INITIALIZED, e.reason());
        assertArrayEquals(rootPem, Files.readAllBytes(pki.ca().directory().resolve("root.pem")));
        assertArrayEquals(key, Files.readAllBytes(pki.ca().directory().resolve("root-key.pem")));
    }

    @Test
    void wrongPassphraseIsReportedAsSuchAndNothingIsIssued() throws Exception {
        try (SiteCa wrong = SiteCa.open(shared, new CaSecrets("not it".toCharArray(), null), clock)) {
            PkiException e = assertThrows(PkiException.class, wrong::unlock);
            assertEquals(Reason.PASSPHRASE_WRONG, e.reason());
            int size = wrong.registry().size();
            PkiException onIssue = assertThrows(PkiException.class,
                    () -> wrong.issue(IssueRequest.device(TestCsr.p256Der(), "cam-1")));
            assertEquals(Reason.PASSPHRASE_WRONG, onIssue.reason());
            assertEquals(size, wrong.registry().size());
        }
    }

    @Test
    void missingPassphraseWithoutAGeneratedFileIsReportedAsMissing() throws Exception {
        try (SiteCa none = SiteCa.open(shared, CaSecrets.none(), clock)) {
            assertNotNull(none.root(), "read-only use needs no passphrase");
            PkiException e = assertThrows(PkiException.class, none::unlock);
            assertEquals(Reason.PASSPHRASE_MISSING, e.reason());
            assertTrue(e.reason().badInput());
        }
    }

    @Test
    void openingWithoutACaIsRefused(@TempDir Path empty) {
        PkiException e = assertThrows(PkiException.class, () -> SiteCa.open(empty, CaSecrets.none(), clock));
        assertEquals(Reason.CA_NOT_INITIALIZED, e.reason());
    }

    @Test
    void firstTimeSetUpWithoutAPassphraseGeneratesAnOwnerOnlyPassphraseFileThatLaterOpensUse(@TempDir Path data)
            throws Exception {
        try (SiteCa ca = SiteCa.initialize(data, options(), CaSecrets.none(), clock)) {
            Path file = ca.generatedPassphraseFile().orElseThrow();
            assertEquals(ca.directory().resolve("passphrase"), file);
            assertEquals("rw-------", mode(file));
            assertTrue(Files.readString(file).strip().length() >= 32, "a long random passphrase");
            assertEquals("rw-------", mode(ca.directory().resolve("root-key.pem")));
            assertEquals("rw-------", mode(ca.directory().resolve("issuing-key.pem")));
        }
        try (SiteCa reopened = SiteCa.open(data, CaSecrets.none(), clock)) {
            assertNotNull(reopened.issue(IssueRequest.device(TestCsr.p256Der(), "cam-gen")).certificate());
        }
    }

    @Test
    void rootKeyOutExportsTheEncryptedRootKeyAndIssuanceStillWorks(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Path offline = Files.createDirectory(tmp.resolve("offline"));
        Path out = offline.resolve("root-key.pem");
        X509Certificate root;
        try (SiteCa ca = SiteCa.initialize(data, withRootKeyOut(out), new CaSecrets(PASSPHRASE.clone(), null),
                clock)) {
            root = ca.root();
            assertEquals("rw-------", mode(out));
            assertTrue(Files.readString(out).contains("BEGIN ENCRYPTED PRIVATE KEY"));
            assertFalse(Files.exists(ca.directory().resolve("root-key.pem")), "root key removed from the CA dir");
            assertTrue(Files.exists(ca.directory().resolve("issuing-key.pem")), "issuing key stays");
            assertFalse(ca.rootKeyPresent());
            assertNotNull(ca.issue(IssueRequest.device(TestCsr.p256Der(), "cam-a")).certificate());
        }
        try (SiteCa reopened = SiteCa.open(data, new CaSecrets(PASSPHRASE.clone(), null), clock)) {
            var issued = reopened.issue(IssueRequest.device(TestCsr.p256Der(), "cam-b"));
            issued.certificate().verify(reopened.issuingCertificate().getPublicKey());
            reopened.revoke(issued.certificate().getSerialNumber(), RevocationReason.KEY_COMPROMISE);
            assertNotNull(reopened.crl().getRevokedCertificate(issued.certificate().getSerialNumber()));
            java.math.BigInteger rootCrlNumber = SiteCa.crlNumber(reopened.rootCrl());
            clock.advance(Duration.ofDays(200));
            try {
                assertEquals(rootCrlNumber, SiteCa.crlNumber(reopened.rootCrl()),
                        "with the root offline the root CRL is served as last signed");
            } finally {
                clock.advance(Duration.ofDays(-200));
            }
        }
        // the exported file is the root key, readable with the passphrase
        SigningKey exported = new FileCaKeyStore(offline, PASSPHRASE).load(SiteCa.ROOT, root);
        Signature s = Signature.getInstance("SHA256withECDSA", CryptoProviders.bouncyCastle());
        s.initSign(exported.privateKey());
        s.update("proof".getBytes(StandardCharsets.UTF_8));
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA", CryptoProviders.bouncyCastle());
        v.initVerify(root.getPublicKey());
        v.update("proof".getBytes(StandardCharsets.UTF_8));
        assertTrue(v.verify(sig));
    }

    @Test
    void rootKeyOutIntoAMissingDirectoryIsRefusedAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Path out = tmp.resolve("no-such-dir").resolve("root-key.pem");
        PkiException e = assertThrows(PkiException.class, () -> SiteCa.initialize(data, withRootKeyOut(out),
                new CaSecrets(PASSPHRASE.clone(), null), clock));
        assertTrue(e.reason().badInput());
        assertEquals(0, entries(data), "no CA, no temporary directory");
        assertFalse(Files.exists(out.getParent()));
    }

    @Test
    void rootKeyOutOntoAnExistingFileIsRefusedWithoutOverwritingIt(@TempDir Path tmp) throws Exception {
        Path out = Files.writeString(tmp.resolve("root-key.pem"), "precious");
        PkiException e = assertThrows(PkiException.class, () -> SiteCa.initialize(tmp.resolve("data"),
                withRootKeyOut(out), new CaSecrets(PASSPHRASE.clone(), null), clock));
        assertTrue(e.reason().badInput());
        assertEquals("precious", Files.readString(out));
        assertEquals(0, entries(tmp.resolve("data")));
    }

    @Test
    void failedInitWithAnUnusablePkcs11ConfigLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        CaInitOptions d = options();
        CaInitOptions pkcs11 = new CaInitOptions(d.kind(), d.trustDomain(), d.keyType(),
                tmp.resolve("missing-pkcs11.cfg"), null, null, d.rootTtl(), d.issuingTtl());
        PkiException e = assertThrows(PkiException.class, () -> SiteCa.initialize(data, pkcs11,
                new CaSecrets(null, "1234".toCharArray()), clock));
        assertEquals(Reason.PKCS11_CONFIG_INVALID, e.reason());
        assertEquals(0, entries(data), "no CA, no temporary directory");
    }

    @Test
    void invalidTrustDomainIsRefused(@TempDir Path tmp) throws Exception {
        CaInitOptions d = options();
        CaInitOptions bad = new CaInitOptions(d.kind(), "Site_Local!", d.keyType(), null, null, null, d.rootTtl(),
                d.issuingTtl());
        PkiException e = assertThrows(PkiException.class, () -> SiteCa.initialize(tmp.resolve("data"), bad,
                new CaSecrets(PASSPHRASE.clone(), null), clock));
        assertEquals(Reason.NAME_INVALID, e.reason());
        assertEquals(0, entries(tmp.resolve("data")));
    }

    @Test
    void p384CaSignsWithSha384(@TempDir Path tmp) {
        try (TestPki p384 = TestPki.builder(tmp).clock(clock).keyType(KeyType.P384).trustDomain("plant.example")
                .build()) {
            assertEquals("SHA384withECDSA", p384.root().getSigAlgName());
            X509Certificate cert = p384.issueDevice("cam-384").certificate();
            assertEquals("SHA384withECDSA", cert.getSigAlgName());
            assertEquals(KeyType.P384, p384.ca().config().keyType());
            assertEquals("plant.example", p384.ca().trustDomain());
        }
    }

    @Test
    void issuingCaNeverOutlivesTheRoot(@TempDir Path tmp) {
        try (TestPki ca = TestPki.builder(tmp).clock(clock).rootTtl(Duration.ofDays(100))
                .issuingTtl(Duration.ofDays(365)).build()) {
            assertEquals(ca.root().getNotAfter(), ca.ca().issuingCertificate().getNotAfter());
        }
    }
}
