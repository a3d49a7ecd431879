package dev.siteward.pki.csr;

import java.security.PublicKey;
import java.util.Arrays;

/**
 * A PKCS#10 request whose signature (proof of possession), algorithms and key were checked.
 *
 * @param publicKey the requester's key
 * @param spkiDer   the DER SubjectPublicKeyInfo, as it will appear in the certificate
 */
public record ValidatedCsr(PublicKey publicKey, byte[] spkiDer) {

    /** True when both requests carry the same public key. */
    public boolean sameKey(byte[] otherSpkiDer) {
        return Arrays.equals(spkiDer, otherSpkiDer);
    }
}
