package dev.siteward.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.server.GatewayCredentials.Renewed;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.RevocationReason;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.KeyManager;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway renews its own server and bootstrap admin certificates at two thirds of their lifetime. */
class CredentialRenewalTest {

    @TempDir
    Path dir;
    MutableClock clock;
    TestPki pki;
    Path data;

    @BeforeEach
    void setUp() {
        clock = MutableClock.atSystemTime();
        data = dir.resolve("data");
        pki = TestPki.create(data, clock);
    }

    @AfterEach
    void tearDown() {
        pki.close();
    }

    private GatewayCredentials credentials() throws Exception {
        return GatewayCredentials.ensure(data, pki.ca(), List.of("gw.site.local", "localhost", "127.0.0.1"), clock);
    }

    @Test
    void nothingIsRenewedBeforeTwoThirdsOfTheLifetime() throws Exception {
        GatewayCredentials creds = credentials();
        X509Certificate server = creds.serverKeys().chain()[0];
        clock.advance(Duration.ofDays(59));
        assertEquals(Set.of(), creds.renewDue());
        assertEquals(server, creds.serverKeys().chain()[0]);
        Duration left = Duration.between(creds.nextRenewal(), server.getNotAfter().toInstant());
        assertTrue(left.compareTo(Duration.ofDays(30)) >= 0 && left.compareTo(Duration.ofDays(30).plusMinutes(1)) < 0,
                "renewal due with a third of the lifetime left: " + left);
    }

    @Test
    void atTwoThirdsTheServerGetsANewKeyAndCertificateServedWithoutRestartAndTheAdminANewCertificate()
            throws Exception {
        GatewayCredentials creds = credentials();
        X509Certificate oldServer = creds.serverKeys().chain()[0];
        X509Certificate oldAdmin = creds.adminCertificate();
        String oldAdminKey = Files.readString(data.resolve("admin/admin-key.pem"));
        clock.advance(Duration.ofDays(61));

        assertEquals(EnumSet.of(Renewed.SERVER, Renewed.ADMIN), creds.renewDue());

        X509Certificate server = creds.serverKeys().chain()[0];
        assertNotEquals(oldServer.getSerialNumber(), server.getSerialNumber());
        assertNotEquals(oldServer.getPublicKey(), server.getPublicKey());
        assertEquals(oldServer.getSubjectAlternativeNames().toString(), server.getSubjectAlternativeNames().toString());
        assertTrue(server.getNotAfter().toInstant().isAfter(clock.instant().plus(Duration.ofDays(89))));
        // the files in the data dir match what is served, so a restart serves the same
        assertEquals(server, PemCodec.parseCertificates(Files.readString(data.resolve("gateway/server.pem"))).get(0));
        assertEquals(server.getPublicKey(), KeyMaterial.publicKeyOf(KeyMaterial.readPrivateKey(
                Files.readString(data.resolve("gateway/server-key.pem")))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                data.resolve("gateway/server-key.pem"))));
        assertEquals(server, handshake(creds.serverKeys()));

        X509Certificate admin = creds.adminCertificate();
        assertNotEquals(oldAdmin.getSerialNumber(), admin.getSerialNumber());
        assertEquals(oldAdmin.getPublicKey(), admin.getPublicKey(), "the bootstrap admin keeps its key");
        assertEquals(oldAdminKey, Files.readString(data.resolve("admin/admin-key.pem")));
        assertEquals(admin, PemCodec.parseCertificates(Files.readString(data.resolve("admin/admin.pem"))).get(0));
        assertEquals("bootstrap", pki.ca().registry().find(admin.getSerialNumber()).orElseThrow().role());

        assertEquals(Set.of(), creds.renewDue(), "renewed once, then not due again");
        // a restart finds nothing to re-issue
        assertEquals(server, credentials().serverKeys().chain()[0]);
    }

    @Test
    void aRevokedServerCertificateIsReplacedAtTheNextCheck() throws Exception {
        GatewayCredentials creds = credentials();
        X509Certificate old = creds.serverKeys().chain()[0];
        pki.ca().unlock();
        pki.ca().revoke(old.getSerialNumber(), RevocationReason.KEY_COMPROMISE);
        assertEquals(EnumSet.of(Renewed.SERVER), creds.renewDue());
        assertNotEquals(old.getSerialNumber(), creds.serverKeys().chain()[0].getSerialNumber());
    }

    /** A TLS handshake against the key manager; returns the certificate the server presented. */
    private X509Certificate handshake(ReloadableKeyManager keys) throws Exception {
        SSLContext server = SSLContext.getInstance("TLSv1.3");
        server.init(new KeyManager[] {keys}, null, null);
        // the clock was moved ahead, so JSSE's own validity check (system time) cannot judge the new certificate: the
        // client checks the signature by the issuing CA and records what the server presented
        X509Certificate[] presented = new X509Certificate[1];
        javax.net.ssl.X509TrustManager recorder = new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType)
                    throws java.security.cert.CertificateException {
                try {
                    chain[0].verify(pki.ca().issuingCertificate().getPublicKey());
                } catch (java.security.GeneralSecurityException e) {
                    throw new java.security.cert.CertificateException(e);
                }
                presented[0] = chain[0];
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext client = SSLContext.getInstance("TLSv1.3");
        client.init(null, new javax.net.ssl.TrustManager[] {recorder}, null);
        SSLEngine s = server.createSSLEngine();
        s.setUseClientMode(false);
        SSLEngine c = client.createSSLEngine("gw.site.local", 443);
        c.setUseClientMode(true);
        ByteBuffer cOut = ByteBuffer.allocate(1 << 16);
        ByteBuffer sOut = ByteBuffer.allocate(1 << 16);
        ByteBuffer app = ByteBuffer.allocate(1 << 16);
        c.beginHandshake();
        s.beginHandshake();
        for (int i = 0; i < 100 && !(done(c) && done(s)); i++) {
            c.wrap(ByteBuffer.allocate(0), cOut);
            cOut.flip();
            s.unwrap(cOut, app);
            cOut.compact();
            run(s);
            s.wrap(ByteBuffer.allocate(0), sOut);
            sOut.flip();
            c.unwrap(sOut, app);
            sOut.compact();
            run(c);
        }
        return presented[0];
    }

    private static boolean done(SSLEngine e) {
        SSLEngineResult.HandshakeStatus h = e.getHandshakeStatus();
        return h == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || h == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    private static void run(SSLEngine e) {
        Runnable task;
        while ((task = e.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
