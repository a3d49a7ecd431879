package dev.siteward.pki.csr;

import java.security.PublicKey;
import java.util.Arrays;

/**
 * A PKCS#10 request whose signature (proof of possession), algorithms and key were checked.
 *
 * @param publicKey the requester's key
 * @param spkiDer   the DER SubjectPublicKeyInfo, as it will appear in the certificate
 * @param claimedCommonName the subject CN the requester wrote into the CSR, or null; never used as the
 *                  certificate's subject, only to catch a request made for another identity
 * @param der       the CSR bytes that were checked
 */
public record ValidatedCsr(PublicKey publicKey, byte[] spkiDer, String claimedCommonName, byte[] der) {

    /** True when this is the result of checking exactly these CSR bytes. */
    public boolean isFor(byte[] csrDer) {
        return der == csrDer || Arrays.equals(der, csrDer);
    }


    /** True when both requests carry the same public key. */
    public boolean sameKey(byte[] otherSpkiDer) {
        return Arrays.equals(spkiDer, otherSpkiDer);
    }
}
