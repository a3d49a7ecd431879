package dev.siteward.pki;

import java.net.URI;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A Siteward workload identity, {@code spiffe://<trust-domain>/<kind>/<name>}, carried as the URI SAN of every
 * certificate the site CA issues (except server certificates).
 */
public record SpiffeId(String trustDomain, Kind kind, String name) {

    /** The kinds of subject a Siteward certificate can name. */
    public enum Kind {
        DEVICE, SERVICE, ADMIN, PUBLISHER;

        public String segment() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Device ids and the names of services, admins and publishers. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    /** A trust domain: a lowercase DNS-like name (SPIFFE ID spec, section 2.1). */
    public static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?");

    public SpiffeId {
        requireTrustDomain(trustDomain);
        requireName(name, kind == Kind.DEVICE ? "device id" : kind.segment() + " name");
    }

    public static SpiffeId device(String trustDomain, String deviceId) {
        return new SpiffeId(trustDomain, Kind.DEVICE, deviceId);
    }

    public URI toUri() {
        return URI.create(toString());
    }

    @Override
    public String toString() {
        return "spiffe://" + trustDomain + "/" + kind.segment() + "/" + name;
    }

    /** Parses {@code spiffe://td/kind/name}; returns null when the text is not a Siteward identity. */
    public static SpiffeId parseOrNull(String uri) {
        if (uri == null || !uri.startsWith("spiffe://")) {
            return null;
        }
        String rest = uri.substring("spiffe://".length());
        String[] parts = rest.split("/", -1);
        if (parts.length != 3) {
            return null;
        }
        for (Kind k : Kind.values()) {
            if (k.segment().equals(parts[1])) {
                try {
                    return new SpiffeId(parts[0], k, parts[2]);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Checks a device id or subject name against {@link #NAME}; the message names what was wrong. */
    public static String requireName(String name, String what) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid " + what + " '" + name
                    + "': use 1-63 characters a-z 0-9 . _ - starting with a letter or digit");
        }
        return name;
    }

    public static String requireTrustDomain(String td) {
        if (td == null || !TRUST_DOMAIN.matcher(td).matches()) {
            throw new IllegalArgumentException("invalid trust domain '" + td
                    + "': use a lowercase DNS name such as site.local");
        }
        return td;
    }
}
