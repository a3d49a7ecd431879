package dev.siteward.pki.validation;

import java.security.cert.X509CRL;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;

/**
 * Where a validator gets CRLs. The gateway answers from its own CA; a device answers with the CRL it fetched over
 * its pinned channel and fetches again on {@link #refresh}.
 */
public interface CrlSource {

    /** The latest CRL this source holds for the issuer, if any. */
    Optional<X509CRL> crlFor(X500Principal issuer);

    /**
     * Every CRL this source holds under the issuer's name (one per key when root generations share a name across
     * a rollover); the validator uses the one the issuer's key verifies.
     */
    default java.util.List<X509CRL> crlsFor(X500Principal issuer) {
        return crlFor(issuer).map(java.util.List::of).orElse(java.util.List.of());
    }

    /**
     * Asked when the held CRL is missing or past its nextUpdate: fetch a fresh one if possible. Returning without
     * one is allowed; the validator then fails closed.
     */
    default void refresh(X500Principal issuer) {
    }
}
