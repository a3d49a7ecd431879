package dev.siteward.pki.validation;

import dev.siteward.pki.validation.CertificateValidationException.Reason;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Validates a certificate chain to the site trust anchors (RFC 5280 section 6 path validation by the JDK's PKIX
 * validator, at the injected clock's time), then checks the revocation status of every certificate in the path
 * against CRLs from a {@link CrlSource} (section 6.3). Revoked fails; a missing or stale CRL triggers one refresh
 * and then fails closed as "revocation unknown".
 */
public final class ChainValidator {

    /** Extended key usages a leaf may be required to carry. */
    public enum Purpose {
        CLIENT_AUTH("1.3.6.1.5.5.7.3.2"), SERVER_AUTH("1.3.6.1.5.5.7.3.1"), CODE_SIGNING("1.3.6.1.5.5.7.3.3"), ANY(null);

        private final String oid;

        Purpose(String oid) {
            this.oid = oid;
        }
    }

    private final Set<TrustAnchor> anchors;
    private final CrlSource crls;
    private final Clock clock;

    public ChainValidator(Collection<X509Certificate> trustAnchors, CrlSource crls, Clock clock) {
        if (trustAnchors.isEmpty()) {
            throw new IllegalArgumentException("at least one trust anchor is needed");
        }
        Set<TrustAnchor> set = new HashSet<>();
        for (X509Certificate c : trustAnchors) {
            set.add(new TrustAnchor(c, null));
        }
        this.anchors = Set.copyOf(set);
        this.crls = crls;
        this.clock = clock;
    }

    /**
     * Validates {@code chain} (leaf first; the anchor may be included or not) for the purpose.
     *
     * @return the validated path, leaf first, ending with the trust anchor
     */
    public List<X509Certificate> validate(List<X509Certificate> chain, Purpose purpose)
            throws CertificateValidationException {
        if (chain == null || chain.isEmpty()) {
            throw new CertificateValidationException(Reason.MALFORMED, "no certificate presented");
        }
        Instant now = clock.instant();
        List<X509Certificate> path = new ArrayList<>(chain);
        X509Certificate anchor = null;
        for (TrustAnchor a : anchors) {
            if (path.get(path.size() - 1).equals(a.getTrustedCert()) && path.size() > 1) {
                path.remove(path.size() - 1);
            }
        }
        if (path.size() > 2) {
            // a longer chain may carry rollover certificates for several roots: take the shortest route the
            // supplied certificates offer to one of our anchors (RFC 4158), not whatever the order happens to allow
            List<X509Certificate> built = CertificatePaths.toAnchor(path, anchorCertificates());
            if (built != null) {
                path = new ArrayList<>(built);
            }
        }
        try {
            try {
                anchor = pkix(path, now);
            } catch (CertPathValidatorException e) {
                // the chain as given may carry rollover certificates for another root, or be out of order:
                // build the path to one of our anchors from what was supplied (RFC 4158) and validate that
                List<X509Certificate> built = CertificatePaths.toAnchor(chain, anchorCertificates());
                if (built == null || built.equals(path)) {
                    throw e;
                }
                path = built;
                anchor = pkix(path, now);
            }
        } catch (CertPathValidatorException e) {
            throw classify(e);
        } catch (GeneralSecurityException e) {
            throw new CertificateValidationException(Reason.MALFORMED, "certificate chain is malformed", e);
        }
        checkPurpose(path.get(0), purpose);
        List<X509Certificate> full = new ArrayList<>(path);
        full.add(anchor);
        for (int i = 0; i < full.size() - 1; i++) {
            checkRevocation(full.get(i), full.get(i + 1), now);
        }
        return full;
    }

    private X509Certificate pkix(List<X509Certificate> path, Instant now) throws GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        CertPath certPath = cf.generateCertPath(path);
        PKIXParameters params = new PKIXParameters(anchors);
        params.setRevocationEnabled(false);
        params.setDate(Date.from(now));
        var result = (java.security.cert.PKIXCertPathValidatorResult)
                CertPathValidator.getInstance("PKIX").validate(certPath, params);
        return result.getTrustAnchor().getTrustedCert();
    }

    private List<X509Certificate> anchorCertificates() {
        List<X509Certificate> out = new ArrayList<>();
        for (TrustAnchor a : anchors) {
            out.add(a.getTrustedCert());
        }
        return out;
    }

    private static CertificateValidationException classify(CertPathValidatorException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof CertificateExpiredException) {
                return new CertificateValidationException(Reason.EXPIRED, "certificate has expired", e);
            }
            if (c instanceof CertificateNotYetValidException) {
                return new CertificateValidationException(Reason.NOT_YET_VALID, "certificate is not yet valid", e);
            }
        }
        if (e.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
            return new CertificateValidationException(Reason.EXPIRED, "certificate has expired", e);
        }
        if (e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
            return new CertificateValidationException(Reason.NOT_YET_VALID, "certificate is not yet valid", e);
        }
        return new CertificateValidationException(Reason.UNTRUSTED,
                "certificate does not chain to a trusted site root", e);
    }

    private static void checkPurpose(X509Certificate leaf, Purpose purpose) throws CertificateValidationException {
        if (purpose.oid == null) {
            return;
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku == null || !eku.contains(purpose.oid)) {
                throw new CertificateValidationException(Reason.WRONG_USAGE, "certificate is not for "
                        + purpose.name().toLowerCase().replace('_', ' '));
            }
        } catch (CertificateParsingException e) {
            throw new CertificateValidationException(Reason.MALFORMED, "unreadable extended key usage", e);
        }
    }

    private void checkRevocation(X509Certificate cert, X509Certificate issuer, Instant now)
            throws CertificateValidationException {
        X509CRL crl = usableCrl(issuer, now);
        if (crl == null) {
            crls.refresh(issuer.getSubjectX500Principal());
            crl = usableCrl(issuer, now);
        }
        if (crl == null) {
            throw new CertificateValidationException(Reason.REVOCATION_UNKNOWN,
                    "no current CRL from " + issuer.getSubjectX500Principal().getName() + ": revocation status unknown");
        }
        X509CRLEntry entry = crl.getRevokedCertificate(cert.getSerialNumber());
        if (entry != null) {
            String why = entry.getRevocationReason() == null ? "" : " (" + entry.getRevocationReason() + ")";
            throw new CertificateValidationException(Reason.REVOKED, "certificate "
                    + cert.getSerialNumber().toString(16) + " is revoked" + why);
        }
    }

    /**
     * A current CRL signed by this issuer's key. Several CRLs may carry the issuer's name (root generations share
     * it across a rollover); the one the issuer's key verifies is used.
     */
    private X509CRL usableCrl(X509Certificate issuer, Instant now) {
        for (X509CRL crl : crls.crlsFor(issuer.getSubjectX500Principal())) {
            if (!crl.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
                continue;
            }
            try {
                crl.verify(issuer.getPublicKey());
            } catch (GeneralSecurityException e) {
                continue;
            }
            if (crl.getNextUpdate() == null || !crl.getNextUpdate().toInstant().isAfter(now)
                    || crl.getThisUpdate().toInstant().isAfter(now.plusSeconds(300))) {
                continue;
            }
            return crl;
        }
        return null;
    }
}
