package dev.siteward.pki.ca;

import java.util.Locale;

/** A site CA issues device, server, service and admin certificates; a publisher CA issues only publishers. */
public enum CaKind {
    SITE, PUBLISHER;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CaKind parse(String text) {
        for (CaKind k : values()) {
            if (k.cliName().equalsIgnoreCase(text)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown CA kind '" + text + "' (expected site or publisher)");
    }
}
