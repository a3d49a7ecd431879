package dev.siteward.device;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.device.DeviceException.Reason;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * What {@code GET /.well-known/siteward} tells a device: the trust domain, the root fingerprint, and the gateway's
 * listener URLs.
 */
public record SiteInfo(String trustDomain, String rootFingerprint, URI enrollUrl, URI deviceUrl) {

    static SiteInfo parse(JsonNode n) throws DeviceException {
        try {
            return new SiteInfo(n.path("trustDomain").asText(), n.path("rootFingerprint").asText(),
                    new URI(n.path("enrollUrl").asText()), new URI(n.path("deviceUrl").asText()));
        } catch (URISyntaxException e) {
            throw new DeviceException(Reason.PROTOCOL, "/.well-known/siteward: unreadable URL: " + e.getMessage(), e);
        }
    }

    /**
     * The device listener URL to use when the device reached the gateway at {@code enrollUrl}: when that host is
     * {@code localhost} or an IP address, it replaces the advertised host (which may not resolve from here), and the
     * advertised port is kept.
     */
    public URI deviceUrlSeenFrom(URI enrollUrl) {
        String host = enrollUrl.getHost();
        boolean literal = host != null && (host.equalsIgnoreCase("localhost") || host.startsWith("[")
                || host.matches("[0-9.]+") || host.contains(":"));
        if (!literal) {
            return deviceUrl;
        }
        try {
            return new URI("https", null, host.startsWith("[") ? host.substring(1, host.length() - 1) : host,
                    deviceUrl.getPort(), "/", null, null);
        } catch (URISyntaxException e) {
            return deviceUrl;
        }
    }
}
