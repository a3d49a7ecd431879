package dev.siteward.device.trust;

import dev.siteward.pki.Certificates;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The fingerprint a device pins the site root by: {@code sha256:} and 64 hex digits of the SHA-256 of the root
 * certificate's DER, as {@code siteward ca show} prints it. Colons between hex pairs and upper case are accepted.
 */
public final class RootFingerprint {

    private static final Pattern FORM = Pattern.compile("sha256:[0-9a-f]{64}");

    private final String value;

    private RootFingerprint(String value) {
        this.value = value;
    }

    /** Parses a pin; throws {@link IllegalArgumentException} with a one-line message when it is malformed. */
    public static RootFingerprint parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("a root fingerprint is required (sha256:<64 hex digits>)");
        }
        String v = text.strip().toLowerCase(Locale.ROOT);
        int colon = v.indexOf(':');
        if (colon > 0) {
            v = v.substring(0, colon + 1) + v.substring(colon + 1).replace(":", "");
        }
        if (!FORM.matcher(v).matches()) {
            throw new IllegalArgumentException("invalid root fingerprint '" + text
                    + "': expected sha256:<64 hex digits> (siteward ca show prints it)");
        }
        return new RootFingerprint(v);
    }

    /** The fingerprint of a certificate. */
    public static RootFingerprint of(X509Certificate certificate) {
        return new RootFingerprint(Certificates.fingerprint(certificate));
    }

    /** True when this is the fingerprint of the certificate's DER. */
    public boolean matches(X509Certificate certificate) {
        return value.equals(Certificates.fingerprint(certificate));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RootFingerprint f && f.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    /** The canonical form, {@code sha256:<lowercase hex>}. */
    @Override
    public String toString() {
        return value;
    }
}
