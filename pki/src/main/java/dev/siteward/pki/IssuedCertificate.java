package dev.siteward.pki;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate the CA issued and durably recorded, with the chain above it (issuing CA, then root).
 */
public record IssuedCertificate(X509Certificate certificate, List<X509Certificate> caChain) {

    public IssuedCertificate {
        caChain = List.copyOf(caChain);
    }

    /** The leaf followed by the CA chain, as served in PEM (leaf first). */
    public List<X509Certificate> fullChain() {
        List<X509Certificate> all = new ArrayList<>(caChain.size() + 1);
        all.add(certificate);
        all.addAll(caChain);
        return all;
    }

    public String serialHex() {
        return Certificates.serialHex(certificate.getSerialNumber());
    }
}
