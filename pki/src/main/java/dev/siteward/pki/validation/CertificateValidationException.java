package dev.siteward.pki.validation;

/** A certificate chain that must not be accepted, with the reason and a stable code. */
public final class CertificateValidationException extends Exception {

    /** Why a chain was refused. */
    public enum Reason {
        MALFORMED("chain.malformed"),
        UNTRUSTED("chain.untrusted"),
        EXPIRED("chain.expired"),
        NOT_YET_VALID("chain.not_yet_valid"),
        REVOKED("chain.revoked"),
        REVOCATION_UNKNOWN("chain.revocation_unknown"),
        WRONG_USAGE("chain.wrong_usage");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    private final Reason reason;

    public CertificateValidationException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public CertificateValidationException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
