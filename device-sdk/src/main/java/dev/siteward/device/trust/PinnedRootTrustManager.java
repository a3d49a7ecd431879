package dev.siteward.device.trust;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import dev.siteward.pki.validation.CertificateValidationException;
import dev.siteward.pki.validation.ChainValidator;
import dev.siteward.pki.validation.CrlSource;
import javax.net.ssl.X509TrustManager;

/**
 * Accepts a server only when its presented chain validates (PKIX, serverAuth, at the clock's time) to the site root
 * whose fingerprint the device pinned. The root is one the caller already holds (from {@code /cacerts} at
 * enrollment, or the device directory afterwards) or a self-signed root the server presents itself; in both cases
 * its SHA-256 fingerprint must equal the pin. Nothing else is ever trusted: not the JDK's CA list, not a
 * certificate that merely names the right issuer. Host name checking is left to the TLS layer (the JDK HTTP client
 * sets HTTPS endpoint identification, which JSSE applies to chains this manager accepted).
 */
public final class PinnedRootTrustManager implements X509TrustManager {

    private final RootFingerprint pin;
    private final List<X509Certificate> knownRoots;
    private final Clock clock;
    private final CrlSource crls;
    /** Further roots accepted as well (the previous pin, kept through a root rollover's overlap). */
    private final List<PinnedRootTrustManager> alternatives;

    /**
     * @param pin        the pinned root fingerprint
     * @param knownRoots root candidates held by the caller (may be empty); only one matching the pin is used
     * @param clock      the time chains are validated at
     */
    public PinnedRootTrustManager(RootFingerprint pin, Collection<X509Certificate> knownRoots, Clock clock) {
        this(pin, knownRoots, clock, null);
    }

    private PinnedRootTrustManager(RootFingerprint pin, Collection<X509Certificate> knownRoots, Clock clock,
                                   CrlSource crls) {
        this(pin, knownRoots, clock, crls, List.of());
    }

    private PinnedRootTrustManager(RootFingerprint pin, Collection<X509Certificate> knownRoots, Clock clock,
                                   CrlSource crls, List<PinnedRootTrustManager> alternatives) {
        this.pin = pin;
        this.knownRoots = List.copyOf(knownRoots);
        this.clock = clock;
        this.crls = crls;
        this.alternatives = List.copyOf(alternatives);
    }

    /**
     * Trusts these roots, the first (the current pin) tried first: a device keeps the root it pinned before a root
     * rollover next to the one it adopted until the old one expires, so a chain to either is accepted.
     */
    public static PinnedRootTrustManager forRoots(List<X509Certificate> roots, Clock clock) {
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("at least one root is needed");
        }
        List<PinnedRootTrustManager> rest = new ArrayList<>();
        for (X509Certificate r : roots.subList(1, roots.size())) {
            rest.add(forRoot(r, clock));
        }
        return new PinnedRootTrustManager(RootFingerprint.of(roots.get(0)), List.of(roots.get(0)), clock, null,
                rest);
    }

    /** Trusts exactly this root. */
    public static PinnedRootTrustManager forRoot(X509Certificate root, Clock clock) {
        return new PinnedRootTrustManager(RootFingerprint.of(root), List.of(root), clock);
    }

    /**
     * The same trust, and additionally every certificate of the server's chain checked against CRLs from
     * {@code crls} (RFC 5280 section 6.3): revoked fails, a stale or missing CRL is refreshed once and then fails
     * closed.
     */
    public PinnedRootTrustManager withRevocation(CrlSource crls) {
        List<PinnedRootTrustManager> alts = new ArrayList<>();
        for (PinnedRootTrustManager a : alternatives) {
            alts.add(a.withRevocation(crls));
        }
        return new PinnedRootTrustManager(pin, knownRoots, clock, crls, alts);
    }

    /**
     * Trust for the one request that learns the time on a device without a real-time clock: the chain must lead to
     * the pinned root with valid signatures, names and key usages, but its validity period is not checked against
     * the (unknown) time — the chain is validated at the latest {@code notBefore} in it, a moment at which every
     * certificate of a well-formed chain is valid. No revocation check (CRLs need the time too). Use it for
     * {@code /.well-known/siteward} only, and never send anything secret over it.
     */
    public static X509TrustManager ignoringValidityPeriod(RootFingerprint pin, Collection<X509Certificate> knownRoots) {
        PinnedRootTrustManager pinned = new PinnedRootTrustManager(pin, knownRoots, Clock.systemUTC());
        return new X509TrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                if (chain == null || chain.length == 0) {
                    throw new UntrustedChainException("the server presented no certificate");
                }
                List<X509Certificate> candidates = new ArrayList<>(pinned.knownRoots);
                candidates.addAll(Arrays.asList(chain));
                PinnedRoot root = PinnedRoot.select(pin, candidates);
                java.time.Instant at = root.certificate().getNotBefore().toInstant();
                for (X509Certificate c : chain) {
                    java.time.Instant nb = c.getNotBefore().toInstant();
                    at = nb.isAfter(at) ? nb : at;
                }
                root.validate(Arrays.asList(chain), PinnedRoot.Purpose.SERVER_AUTH, at);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                pinned.checkClientTrusted(chain, authType);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return pinned.getAcceptedIssuers();
            }
        };
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new UntrustedChainException("the server presented no certificate");
        }
        try {
            checkOne(chain);
        } catch (CertificateException e) {
            for (PinnedRootTrustManager alternative : alternatives) {
                try {
                    alternative.checkOne(chain);
                    return;
                } catch (CertificateException ignored) {
                    // the first pin's failure is the one reported
                }
            }
            throw e;
        }
    }

    private void checkOne(X509Certificate[] chain) throws CertificateException {
        List<X509Certificate> candidates = new ArrayList<>(knownRoots);
        candidates.addAll(Arrays.asList(chain));
        PinnedRoot root = PinnedRoot.select(pin, candidates);
        java.time.Instant at = validAt(root, Arrays.asList(chain));
        if (crls != null) {
            try {
                Clock checkAt = at.equals(clock.instant()) ? clock : Clock.fixed(at, java.time.ZoneOffset.UTC);
                new ChainValidator(List.of(root.certificate()), crls, checkAt).validate(Arrays.asList(chain),
                        ChainValidator.Purpose.SERVER_AUTH);
            } catch (CertificateValidationException e) {
                throw new UntrustedChainException("the gateway's certificate chain fails its revocation check: "
                        + e.getMessage());
            }
        }
    }

    /**
     * Validates the chain at the clock's time; on a device without a real-time clock (a {@link
     * dev.siteward.device.time.DeviceClock} with a tolerance), a chain that fails then but validates at the time
     * moved by the tolerance either way is accepted. Returns the time it validated at.
     */
    private java.time.Instant validAt(PinnedRoot root, List<X509Certificate> chain) throws UntrustedChainException {
        java.time.Instant now = clock.instant();
        try {
            root.validate(chain, PinnedRoot.Purpose.SERVER_AUTH, now);
            return now;
        } catch (UntrustedChainException e) {
            java.time.Duration tolerance = dev.siteward.device.time.DeviceClock.toleranceOf(clock);
            if (tolerance.isZero()) {
                throw e;
            }
            for (java.time.Instant at : List.of(now.minus(tolerance), now.plus(tolerance))) {
                try {
                    root.validate(chain, PinnedRoot.Purpose.SERVER_AUTH, at);
                    return at;
                } catch (UntrustedChainException ignored) {
                    // try the other side, then report the failure at the clock's time
                }
            }
            throw e;
        }
    }

    /** Always refuses: a device never accepts TLS clients. */
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a device does not accept TLS clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        List<X509Certificate> out = new ArrayList<>(knownRoots.stream().filter(pin::matches).toList());
        for (PinnedRootTrustManager a : alternatives) {
            out.addAll(List.of(a.getAcceptedIssuers()));
        }
        return out.toArray(new X509Certificate[0]);
    }
}
