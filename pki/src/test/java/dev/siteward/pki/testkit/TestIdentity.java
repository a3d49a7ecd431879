package dev.siteward.pki.testkit;

import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A key pair and the certificate a test CA issued for it, with the CA chain: what a device, server or admin holds.
 *
 * @param keyPair the holder's key pair
 * @param issued  the certificate and the CA chain above it
 */
public record TestIdentity(KeyPair keyPair, IssuedCertificate issued) {

    /** The leaf certificate. */
    public X509Certificate certificate() {
        return issued.certificate();
    }

    /** The leaf, then the issuing CA, then the root. */
    public List<X509Certificate> chain() {
        return issued.fullChain();
    }

    public PrivateKey privateKey() {
        return keyPair.getPrivate();
    }

    public BigInteger serial() {
        return issued.certificate().getSerialNumber();
    }

    /** Writes a PKCS#12 key store (0600) with this key and chain under {@code alias}; returns {@code file}. */
    public Path writeKeyStore(Path file, String alias, char[] password) {
        return Pkcs12Stores.writeKeyStore(file, alias, privateKey(), chain(), password);
    }

    /**
     * Writes the chain (leaf first) as PEM to {@code certFile} and the private key as unencrypted PKCS#8 PEM (0600)
     * to {@code keyFile}: the forms {@code openssl}, mosquitto and Micronaut's PEM loader read.
     */
    public void writePem(Path certFile, Path keyFile) {
        try {
            SecureFiles.writeAtomically(certFile, PemCodec.certificates(chain()), false);
            SecureFiles.writeAtomically(keyFile, PemCodec.encode("PRIVATE KEY", privateKey().getEncoded()), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
