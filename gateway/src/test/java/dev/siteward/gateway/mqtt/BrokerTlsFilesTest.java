package dev.siteward.gateway.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestIdentity;
import dev.siteward.pki.testkit.TestPki;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerTlsFilesTest {

    @TempDir
    Path dir;

    private static KeyStore load(Path file, char[] password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password);
        }
        return ks;
    }

    private static X509Certificate served(Path keystore, char[] password) throws Exception {
        KeyStore ks = load(keystore, password);
        String alias = Collections.list(ks.aliases()).get(0);
        return (X509Certificate) ks.getCertificateChain(alias)[0];
    }

    private static List<X509Certificate> trusted(Path truststore, char[] password) throws Exception {
        KeyStore ks = load(truststore, password);
        List<X509Certificate> out = new ArrayList<>();
        for (String a : Collections.list(ks.aliases())) {
            out.add((X509Certificate) ks.getCertificate(a));
        }
        return out;
    }

    @Test
    void aRenewedServerCertificateAndRotatedAnchorsAreWrittenWithTheSamePasswordAndOnlyWhenChanged()
            throws Exception {
        MutableClock clock = MutableClock.atDefaultStart();
        TestPki pki = TestPki.create(dir.resolve("ca"), clock);
        TestIdentity first = pki.issueDevice("server-a");
        TestIdentity renewed = pki.issueDevice("server-b");
        char[] password = "broker-password".toCharArray();
        Path ks = dir.resolve("server-keystore.p12");
        Path ts = dir.resolve("client-ca-truststore.p12");
        EmbeddedMqttBroker.TlsFiles files = new EmbeddedMqttBroker.TlsFiles(ks, ts, password);
        List<X509Certificate> anchors = List.of(pki.root(), pki.ca().issuingCertificate());

        assertTrue(files.write(first.privateKey(), first.chain().toArray(new X509Certificate[0]), anchors));
        assertEquals(first.certificate(), served(ks, password));
        long written = Files.getLastModifiedTime(ks).toMillis();
        assertFalse(files.write(first.privateKey(), first.chain().toArray(new X509Certificate[0]), anchors),
                "unchanged material is not rewritten (HiveMQ reloads on changed content)");
        assertEquals(written, Files.getLastModifiedTime(ks).toMillis());

        assertTrue(files.write(renewed.privateKey(), renewed.chain().toArray(new X509Certificate[0]), anchors));
        assertEquals(renewed.certificate(), served(ks, password), "the broker's password still opens the new store");

        pki.ca().unlock();
        pki.ca().rotate();
        List<X509Certificate> rotated = new ArrayList<>(anchors);
        rotated.add(pki.ca().issuingCertificate());
        assertTrue(files.write(renewed.privateKey(), renewed.chain().toArray(new X509Certificate[0]), rotated));
        assertEquals(3, trusted(ts, password).size(), "the new issuing generation is trusted for client certificates");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(ks)));
    }
}
