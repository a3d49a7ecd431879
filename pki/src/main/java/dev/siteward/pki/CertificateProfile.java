package dev.siteward.pki;

import java.time.Duration;
import java.util.Locale;

/**
 * The kinds of end-entity certificate Siteward issues. Each profile fixes the subject form, SANs, key usage and
 * extended key usage, and a default lifetime; which CA kind may issue it is fixed too.
 */
public enum CertificateProfile {
    /** A device: CN = device id, URI SAN spiffe://td/device/id, clientAuth. */
    DEVICE(Duration.ofDays(30), false),
    /** One of the gateway's own TLS listeners: DNS/IP SANs, serverAuth. */
    SERVER(Duration.ofDays(90), false),
    /** One of the gateway's own clients (e.g. its MQTT client): URI SAN spiffe://td/service/name, clientAuth. */
    SERVICE(Duration.ofDays(30), false),
    /** A person or automation operating the gateway: URI SAN spiffe://td/admin/name, clientAuth. */
    ADMIN(Duration.ofDays(90), false),
    /** A model or policy signer, issued by a publisher CA: URI SAN spiffe://td/publisher/name, codeSigning. */
    PUBLISHER(Duration.ofDays(365), true);

    private final Duration defaultTtl;
    private final boolean publisherCa;

    CertificateProfile(Duration defaultTtl, boolean publisherCa) {
        this.defaultTtl = defaultTtl;
        this.publisherCa = publisherCa;
    }

    public Duration defaultTtl() {
        return defaultTtl;
    }

    /** True when only a publisher CA issues this profile, false when only a site CA does. */
    public boolean issuedByPublisherCa() {
        return publisherCa;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CertificateProfile parse(String text) {
        for (CertificateProfile p : values()) {
            if (p.cliName().equalsIgnoreCase(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown profile '" + text
                + "' (expected device, server, service, admin or publisher)");
    }
}
