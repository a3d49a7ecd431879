package dev.siteward.pki;

import java.util.Locale;

/** CRL reason codes with their RFC 5280 section 5.3.1 names, as used on the CLI ({@code keyCompromise}, ...). */
public enum RevocationReason {
    UNSPECIFIED("unspecified", 0),
    KEY_COMPROMISE("keyCompromise", 1),
    CA_COMPROMISE("cACompromise", 2),
    AFFILIATION_CHANGED("affiliationChanged", 3),
    SUPERSEDED("superseded", 4),
    CESSATION_OF_OPERATION("cessationOfOperation", 5),
    CERTIFICATE_HOLD("certificateHold", 6),
    PRIVILEGE_WITHDRAWN("privilegeWithdrawn", 9),
    AA_COMPROMISE("aACompromise", 10);

    private final String rfcName;
    private final int code;

    RevocationReason(String rfcName, int code) {
        this.rfcName = rfcName;
        this.code = code;
    }

    public String rfcName() {
        return rfcName;
    }

    public int code() {
        return code;
    }

    /** Parses an RFC 5280 reason name, case-insensitively; throws naming the accepted names. */
    public static RevocationReason parse(String name) {
        for (RevocationReason r : values()) {
            if (r.rfcName.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        StringBuilder names = new StringBuilder();
        for (RevocationReason r : values()) {
            names.append(names.length() == 0 ? "" : ", ").append(r.rfcName);
        }
        throw new IllegalArgumentException("unknown revocation reason '" + name + "' (expected one of " + names + ")");
    }

    public static RevocationReason ofCode(int code) {
        for (RevocationReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return UNSPECIFIED;
    }
}
