package dev.siteward.device.trust;

import dev.siteward.pki.validation.CrlSource;
import java.math.BigInteger;
import java.security.cert.X509CRL;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.security.auth.x500.X500Principal;

/**
 * The CRLs a device checks the gateway's chain against, fetched from the gateway's {@code /crls} over the pinned
 * channel (each CRL is signed by its CA, so the channel need not vouch for it). A missing or stale CRL makes the
 * validator ask for a refresh — at most one fetch per {@link #MIN_REFRESH_INTERVAL} — rather than lock the device
 * out; if no current CRL can be had, validation fails closed.
 */
public final class GatewayCrls implements CrlSource {

    /** Fetches are spaced at least this far apart, so a broken gateway is not hammered. */
    public static final Duration MIN_REFRESH_INTERVAL = Duration.ofSeconds(10);

    private final Supplier<List<X509CRL>> fetcher;
    private final Clock clock;
    /** Keyed by issuer name and authority key id: root generations share a name across a rollover. */
    private final Map<String, X509CRL> byIssuer = new ConcurrentHashMap<>();
    private volatile Instant lastFetch;
    /** Issuers with no CRL yet that were fetched for once outside the refresh interval. */
    private final java.util.Set<X500Principal> askedFor = ConcurrentHashMap.newKeySet();

    /**
     * @param fetcher returns the gateway's current CRLs; it may throw (transport failure), which leaves the held
     *                CRLs as they were
     */
    public GatewayCrls(Supplier<List<X509CRL>> fetcher, Clock clock) {
        this.fetcher = fetcher;
        this.clock = clock;
    }

    @Override
    public Optional<X509CRL> crlFor(X500Principal issuer) {
        List<X509CRL> all = crlsFor(issuer);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    @Override
    public List<X509CRL> crlsFor(X500Principal issuer) {
        List<X509CRL> out = new java.util.ArrayList<>();
        for (X509CRL crl : byIssuer.values()) {
            if (crl.getIssuerX500Principal().equals(issuer)) {
                out.add(crl);
            }
        }
        return out;
    }

    @Override
    public synchronized void refresh(X500Principal issuer) {
        Instant now = clock.instant();
        // an issuer never seen before (the gateway moved to a new issuing CA or root) is fetched at once, once
        boolean newIssuer = issuer != null && crlsFor(issuer).isEmpty() && askedFor.add(issuer);
        if (!newIssuer && lastFetch != null
                && Duration.between(lastFetch, now).compareTo(MIN_REFRESH_INTERVAL) < 0) {
            return;
        }
        lastFetch = now;
        try {
            add(fetcher.get());
        } catch (RuntimeException e) {
            // a transport failure: keep what we have; the validator fails closed if that is not current
        }
    }

    /**
     * Fetches the CRLs if none were fetched yet. Called before a request, outside any TLS handshake, so the
     * handshake's revocation check finds them in hand instead of fetching from inside the handshake.
     */
    public void ensureLoaded() {
        if (lastFetch == null) {
            refresh(null);
        }
    }

    /** Adds CRLs, keeping per issuer the one with the highest CRL number (then the latest thisUpdate). */
    public void add(Collection<X509CRL> crls) {
        for (X509CRL crl : crls) {
            byIssuer.merge(key(crl), crl, (a, b) -> newer(b, a) ? b : a);
        }
    }

    private static String key(X509CRL crl) {
        byte[] aki = crl.getExtensionValue("2.5.29.35");
        return crl.getIssuerX500Principal().getName() + "|"
                + (aki == null ? "" : java.util.HexFormat.of().formatHex(aki));
    }

    private static boolean newer(X509CRL candidate, X509CRL held) {
        int byNumber = number(candidate).compareTo(number(held));
        return byNumber != 0 ? byNumber > 0 : candidate.getThisUpdate().after(held.getThisUpdate());
    }

    private static BigInteger number(X509CRL crl) {
        byte[] ext = crl.getExtensionValue("2.5.29.20");
        if (ext == null || ext.length < 4) {
            return BigInteger.ZERO;
        }
        // OCTET STRING { INTEGER } : skip the two DER headers (short form lengths suffice for CRL numbers)
        return new BigInteger(java.util.Arrays.copyOfRange(ext, 4, ext.length));
    }
}
