package dev.siteward.device;

import dev.siteward.device.trust.RootFingerprint;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * What a device needs to enroll: the gateway's enrollment URL, the one-time token, and the site root fingerprint
 * given with the token.
 */
public record EnrollmentRequest(URI gateway, String token, RootFingerprint pin) {

    public EnrollmentRequest {
        if (token == null || token.isBlank() || token.strip().chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new IllegalArgumentException("the enrollment token is empty or not printable ASCII");
        }
        token = token.strip();
    }

    /**
     * Parses user input: an {@code https://host[:port]} URL (a path is ignored; port 8443 when none), a token, and a
     * {@code sha256:<hex>} fingerprint. Throws {@link IllegalArgumentException} with a one-line message.
     */
    public static EnrollmentRequest of(String gatewayUrl, String token, String fingerprint) {
        return new EnrollmentRequest(enrollmentUrl(gatewayUrl), token, RootFingerprint.parse(fingerprint));
    }

    static URI enrollmentUrl(String text) {
        URI u;
        try {
            u = new URI(text == null ? "" : text.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid gateway URL '" + text + "': " + e.getReason());
        }
        if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
            throw new IllegalArgumentException("invalid gateway URL '" + text
                    + "': expected https://HOST[:PORT] (the gateway's enrollment listener)");
        }
        try {
            return new URI("https", null, u.getHost().startsWith("[")
                    ? u.getHost().substring(1, u.getHost().length() - 1) : u.getHost(),
                    u.getPort() < 0 ? 8443 : u.getPort(), "/", null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid gateway URL '" + text + "'");
        }
    }
}
