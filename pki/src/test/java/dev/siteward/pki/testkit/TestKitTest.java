package dev.siteward.pki.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.PemCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kit itself: the clock moves only when told, and the stores it writes load into JSSE. */
class TestKitTest {

    private static final char[] PASSWORD = "store-pass".toCharArray();

    @TempDir
    static Path tmp;
    static TestPki pki;

    @BeforeAll
    static void createCa() {
        pki = TestPki.create(tmp.resolve("ca"), MutableClock.atSystemTime()); // JSSE checks the system time
    }

    @AfterAll
    static void closeCa() {
        pki.close();
    }

    @Test
    void clockStandsStillUntilSetOrAdvanced() {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        assertEquals(Instant.parse("2030-01-01T00:00:00Z"), clock.instant());
        assertEquals(Instant.parse("2030-01-02T00:00:00Z"), clock.advance(Duration.ofDays(1)));
        clock.set(Instant.parse("2029-06-01T00:00:00Z"));
        assertEquals(Instant.parse("2029-06-01T00:00:00Z"), clock.instant());
        Clock zoned = clock.withZone(ZoneId.of("Europe/Berlin"));
        clock.advance(Duration.ofHours(1));
        assertEquals(clock.instant(), zoned.instant(), "a zoned view shares the instant");
    }

    @Test
    void kitCaWasCreatedBeforeTheClockTimeSoThatPastCertificatesCanBeIssued() {
        assertTrue(pki.ca().issuingCertificate().getNotBefore().toInstant()
                .isBefore(pki.clock().instant().minus(Duration.ofHours(2))));
        Instant before = pki.clock().instant();
        TestIdentity expired = pki.expiredDevice("kit-expired");
        assertEquals(before, pki.clock().instant(), "the clock is put back");
        assertTrue(expired.certificate().getNotAfter().toInstant().isBefore(before));
    }

    @Test
    void keyStoreAndTrustStoreLoadIntoJsse() throws Exception {
        TestIdentity device = pki.issueDevice("kit-tls");
        Path ks = device.writeKeyStore(tmp.resolve("device.p12"), "device", PASSWORD);
        Path ts = pki.writeTrustStore(tmp.resolve("trust.p12"), PASSWORD);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ks)));

        KeyStore keys = Pkcs12Stores.load(ks, PASSWORD);
        Certificate[] chain = keys.getCertificateChain("device");
        assertEquals(3, chain.length);
        assertEquals(device.certificate(), chain[0]);
        assertArrayEquals(device.privateKey().getEncoded(), keys.getKey("device", PASSWORD).getEncoded());

        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASSWORD);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(Pkcs12Stores.load(ts, PASSWORD));
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        X509KeyManager km = (X509KeyManager) kmf.getKeyManagers()[0];
        assertEquals("device", km.chooseClientAlias(new String[] {"EC"}, null, null));
        ((javax.net.ssl.X509TrustManager) tmf.getTrustManagers()[0]).checkClientTrusted(
                device.chain().toArray(new java.security.cert.X509Certificate[0]), "ECDHE_ECDSA");
    }

    @Test
    void pemFilesHoldTheChainAndAnOwnerOnlyPkcs8Key() throws Exception {
        TestIdentity device = pki.issueDevice("kit-pem");
        Path cert = tmp.resolve("kit-pem.crt");
        Path key = tmp.resolve("kit-pem.key");
        device.writePem(cert, key);
        assertEquals(device.chain(), PemCodec.parseCertificates(Files.readString(cert)));
        assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    }

    @Test
    void csrBuilderClaimsWhatItIsToldToClaim() throws Exception {
        byte[] der = TestCsr.forKey(TestKeys.p384()).subject("CN=someone-else").uriSan("spiffe://x/admin/root")
                .der();
        var csr = new org.bouncycastle.pkcs.PKCS10CertificationRequest(der);
        assertEquals("CN=someone-else", csr.getSubject().toString());
        assertEquals("1.2.840.10045.4.3.3", csr.getSignatureAlgorithm().getAlgorithm().getId(), "ecdsa-with-SHA384");
    }

    @Test
    void otherCaHasTheSameNamesButDifferentKeys() {
        try (TestPki other = pki.otherCa(tmp.resolve("other"))) {
            assertEquals(pki.root().getSubjectX500Principal(), other.root().getSubjectX500Principal());
            assertNotEquals(pki.root().getPublicKey(), other.root().getPublicKey());
        }
    }
}
