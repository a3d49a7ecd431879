package dev.siteward.tests;

import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** SSL contexts from PEM files, as a device or admin would build them: its key and chain, the site root only. */
final class Tls {

    private Tls() {
    }

    static SSLContext context(Path certPem, Path keyPem, Path rootPem) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        if (certPem != null) {
            List<X509Certificate> chain = PemCodec.parseCertificates(Files.readString(certPem));
            PrivateKey key = KeyMaterial.readPrivateKey(Files.readString(keyPem));
            key = java.security.KeyFactory.getInstance("EC").generatePrivate(
                    new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
            ks.setKeyEntry("me", key, new char[0], chain.toArray(new X509Certificate[0]));
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", PemCodec.parseCertificates(Files.readString(rootPem)).get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
