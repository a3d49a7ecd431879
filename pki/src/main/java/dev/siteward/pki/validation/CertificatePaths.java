package dev.siteward.pki.validation;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Builds a certification path from a leaf to one of several trust anchors out of the certificates a peer supplied,
 * in any order and with extras (RFC 4158 forward path building, depth-first, bounded). During a root rollover a
 * peer serves the rollover certificates for every trusted root at once; each relying party picks the path that ends
 * at the root it trusts. Issuers are matched by name and by signature, so roots that share a name (self-issued
 * rollover certificates, RFC 4210 section 4.4) are told apart by their keys. A self-signed certificate is never
 * used as an intermediate: it can only end a path as an anchor.
 */
public final class CertificatePaths {

    /** Longest path considered, leaf included: far above any Siteward chain, low enough to bound the search. */
    public static final int MAX_DEPTH = 8;

    private CertificatePaths() {
    }

    /**
     * The path from {@code supplied.get(0)} (the leaf) to an anchor, leaf first and without the anchor, using only
     * the supplied certificates as intermediates; null when none reaches an anchor.
     */
    public static List<X509Certificate> toAnchor(List<X509Certificate> supplied,
                                                 Collection<X509Certificate> anchors) {
        if (supplied == null || supplied.isEmpty()) {
            return null;
        }
        List<X509Certificate> path = new ArrayList<>();
        path.add(supplied.get(0));
        return extend(path, supplied, anchors) ? path : null;
    }

    private static boolean extend(List<X509Certificate> path, List<X509Certificate> pool,
                                  Collection<X509Certificate> anchors) {
        X509Certificate last = path.get(path.size() - 1);
        for (X509Certificate anchor : anchors) {
            if (issuedBy(last, anchor)) {
                return true;
            }
        }
        if (path.size() >= MAX_DEPTH) {
            return false;
        }
        for (X509Certificate candidate : pool) {
            if (!path.contains(candidate) && !anchors.contains(candidate) && candidate.getBasicConstraints() >= 0
                    && issuedBy(last, candidate) && !issuedBy(candidate, candidate)) {
                path.add(candidate);
                if (extend(path, pool, anchors)) {
                    return true;
                }
                path.remove(path.size() - 1);
            }
        }
        return false;
    }

    /** True when {@code issuer}'s name is the certificate's issuer name and its key verifies the signature. */
    public static boolean issuedBy(X509Certificate cert, X509Certificate issuer) {
        if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
