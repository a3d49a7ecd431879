package dev.siteward.device.trust;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * The one site root a device trusts. Validates chains to it alone with the JDK's PKIX validator (RFC 5280 section 6)
 * at a given instant and checks the leaf's extended key usage. Revocation is not checked here: the device trusts the
 * gateway it pinned, and the gateway checks the devices.
 */
public final class PinnedRoot {

    /** Extended key usages a leaf is checked for. */
    public enum Purpose {
        SERVER_AUTH("1.3.6.1.5.5.7.3.1"), CLIENT_AUTH("1.3.6.1.5.5.7.3.2");

        private final String oid;

        Purpose(String oid) {
            this.oid = oid;
        }
    }

    private final X509Certificate root;
    private final RootFingerprint fingerprint;

    public PinnedRoot(X509Certificate root) {
        this.root = root;
        this.fingerprint = RootFingerprint.of(root);
    }

    /**
     * Picks, among candidate certificates, the self-signed root whose fingerprint is the pin.
     *
     * @throws UntrustedChainException when none matches: the site is not the pinned one
     */
    public static PinnedRoot select(RootFingerprint pin, Collection<X509Certificate> candidates)
            throws UntrustedChainException {
        for (X509Certificate c : candidates) {
            if (pin.matches(c) && selfSigned(c)) {
                return new PinnedRoot(c);
            }
        }
        throw new UntrustedChainException("the gateway's CA is not the pinned site root " + pin
                + " (wrong --ca-fingerprint, or not the gateway you meant)");
    }

    public X509Certificate certificate() {
        return root;
    }

    public RootFingerprint fingerprint() {
        return fingerprint;
    }

    /**
     * Validates {@code chain} (leaf first; the root may be included) to this root at {@code at}, for the purpose.
     *
     * @return the validated path, leaf first, ending with the root
     */
    public List<X509Certificate> validate(List<X509Certificate> chain, Purpose purpose, Instant at)
            throws UntrustedChainException {
        if (chain == null || chain.isEmpty()) {
            throw new UntrustedChainException("no certificate presented");
        }
        List<X509Certificate> path = new ArrayList<>(chain);
        while (path.size() > 1 && path.get(path.size() - 1).equals(root)) {
            path.remove(path.size() - 1);
        }
        if (path.size() == 1 && path.get(0).equals(root)) {
            throw new UntrustedChainException("the root itself is not a usable leaf");
        }
        if (path.size() > 2) {
            // during a root rollover the gateway serves the rollover certificates for every trusted root: take
            // the route the supplied certificates offer to this root (the cross certificate for an old pin, none
            // for the new one)
            List<X509Certificate> built = dev.siteward.pki.validation.CertificatePaths.toAnchor(path, List.of(root));
            if (built != null) {
                path = new ArrayList<>(built);
            }
        }
        try {
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
            params.setRevocationEnabled(false);
            params.setDate(Date.from(at));
            CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
        } catch (CertPathValidatorException e) {
            throw new UntrustedChainException("certificate chain does not validate to the pinned site root "
                    + fingerprint + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new UntrustedChainException("certificate chain is malformed: " + e.getMessage(), e);
        }
        try {
            List<String> eku = path.get(0).getExtendedKeyUsage();
            if (eku == null || !eku.contains(purpose.oid)) {
                throw new UntrustedChainException("certificate is not for "
                        + purpose.name().toLowerCase().replace('_', ' '));
            }
        } catch (CertificateParsingException e) {
            throw new UntrustedChainException("unreadable extended key usage", e);
        }
        List<X509Certificate> full = new ArrayList<>(path);
        full.add(root);
        return full;
    }

    static boolean selfSigned(X509Certificate c) {
        if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
            return false;
        }
        try {
            c.verify(c.getPublicKey());
            return c.getBasicConstraints() >= 0;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
