package dev.siteward.device.trust;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.validation.CertificatePaths;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Decides whether a device moves its pin to a new site root after a root rollover. Pure logic, no I/O: the caller
 * passes what the gateway announced ({@code /.well-known/siteward}: {@code roots} and {@code rolloverCertificates})
 * and the instant to judge at. A new root is adopted ONLY when a rollover certificate signed by the root the device
 * already pins vouches for it: same name and same public key as the offered self-signed root, a CA certificate,
 * valid now, and verified with the pinned root's key (RFC 4210 section 4.4, "NewWithOld"). An announcement alone,
 * however it arrived, never moves the pin; a chain of rollovers (root 1 to 2 to 3) is followed one vouched step at
 * a time.
 */
public final class RootAdoption {

    /** What the gateway announced: the roots it trusts and its rollover certificates. */
    public record Offer(List<X509Certificate> roots, List<X509Certificate> rolloverCertificates) {
        public Offer {
            roots = List.copyOf(roots);
            rolloverCertificates = List.copyOf(rolloverCertificates);
        }

        /** Reads {@code roots[].pem} and {@code rolloverCertificates[]} of {@code /.well-known/siteward}. */
        public static Offer parse(JsonNode siteInfo) throws CertificateException {
            List<X509Certificate> roots = new ArrayList<>();
            for (JsonNode r : siteInfo.path("roots")) {
                roots.addAll(PemCodec.parseCertificates(r.path("pem").asText("")));
            }
            List<X509Certificate> rollover = new ArrayList<>();
            for (JsonNode c : siteInfo.path("rolloverCertificates")) {
                rollover.addAll(PemCodec.parseCertificates(c.asText("")));
            }
            return new Offer(roots, rollover);
        }

        /** True when a root with this fingerprint is among the offered roots. */
        public boolean offers(RootFingerprint fingerprint) {
            return roots.stream().anyMatch(fingerprint::matches);
        }
    }

    private RootAdoption() {
    }

    /**
     * The newest root the offer chains to the pinned one by vouched steps, or empty when there is none (no rollover,
     * or nothing that verifies: the pin stays).
     */
    public static Optional<X509Certificate> newerRoot(X509Certificate pinned, Offer offer, Instant at) {
        X509Certificate current = pinned;
        List<X509Certificate> visited = new ArrayList<>(List.of(pinned));
        while (true) {
            X509Certificate next = null;
            for (X509Certificate candidate : offer.roots()) {
                // only forward: a newer root (the link certificate "OldWithNew" never takes a pin back)
                if (visited.contains(candidate) || !PinnedRoot.selfSigned(candidate) || !validAt(candidate, at)
                        || !candidate.getNotBefore().after(current.getNotBefore())) {
                    continue;
                }
                if (vouched(current, candidate, offer.rolloverCertificates(), at)
                        && (next == null || candidate.getNotBefore().after(next.getNotBefore()))) {
                    next = candidate;
                }
            }
            if (next == null) {
                return current == pinned ? Optional.empty() : Optional.of(current);
            }
            visited.add(next);
            current = next;
        }
    }

    /** True when one of the rollover certificates carries {@code candidate}'s name and key under {@code pinned}. */
    static boolean vouched(X509Certificate pinned, X509Certificate candidate, Collection<X509Certificate> rollover,
                           Instant at) {
        for (X509Certificate x : rollover) {
            if (x.getSubjectX500Principal().equals(candidate.getSubjectX500Principal())
                    && Arrays.equals(x.getPublicKey().getEncoded(), candidate.getPublicKey().getEncoded())
                    && x.getBasicConstraints() >= 0 && validAt(x, at)
                    && CertificatePaths.issuedBy(x, pinned)) {
                return true;
            }
        }
        return false;
    }

    private static boolean validAt(X509Certificate c, Instant at) {
        return !at.isBefore(c.getNotBefore().toInstant()) && at.isBefore(c.getNotAfter().toInstant());
    }
}
