package dev.siteward.gateway.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real embedded broker serves a renewed server certificate to new connections without a restart. The wait is
 * real time: HiveMQ checks its key store file every 10 s.
 */
class EmbeddedBrokerTlsReloadTest {

    @TempDir
    Path dir;

    private static X509Certificate servedCertificate(int port, TestIdentity client, X509Certificate root)
            throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("c", java.security.KeyFactory.getInstance("EC", "SunEC").generatePrivate(
                        new java.security.spec.PKCS8EncodedKeySpec(client.privateKey().getEncoded())),
                new char[0], client.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    @Test
    void aRenewedServerCertificateIsServedToNewConnectionsWithoutARestart() throws Exception {
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki pki = TestPki.create(dir.resolve("ca"), clock)) {
            TestIdentity first = pki.issueServer("localhost", "127.0.0.1");
            TestIdentity renewed = pki.issueServer("localhost", "127.0.0.1");
            TestIdentity device = pki.issueDevice("probe-1");
            List<X509Certificate> anchors = List.of(pki.root(), pki.ca().issuingCertificate());
            int port;
            try (ServerSocket free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            try (EmbeddedMqttBroker broker = EmbeddedMqttBroker.start(dir.resolve("data"), port, "127.0.0.1",
                    1 << 20, first.privateKey(), first.chain().toArray(new X509Certificate[0]), anchors,
                    new BrokerSecurityExtension(new MqttAdmission(null, Set.of())), Duration.ofSeconds(60))) {
                assertEquals(first.certificate(), servedCertificate(port, device, pki.root()));
                assertTrue(broker.refreshTls(renewed.privateKey(), renewed.chain().toArray(new X509Certificate[0]),
                        anchors));
                X509Certificate served = null;
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (System.nanoTime() < deadline) {
                    served = servedCertificate(port, device, pki.root());
                    if (served.equals(renewed.certificate())) {
                        break;
                    }
                    Thread.sleep(500);
                }
                assertEquals(renewed.certificate(), served, "served after HiveMQ's store check");
            }
        }
    }
}
