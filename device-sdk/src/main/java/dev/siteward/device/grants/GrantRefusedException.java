package dev.siteward.device.grants;

/** An action grant was refused; {@link #reason()} says why with a stable code. The grant must not be acted on. */
public final class GrantRefusedException extends Exception {

    /** Why a grant is refused. */
    public enum Reason {
        /** Not a compact JWS, or a claim has the wrong type. */
        MALFORMED("grant.malformed"),
        /** Not ES256, or not of type {@code siteward-grant+jwt}. */
        ALGORITHM("grant.algorithm"),
        /** The x5c chain is missing or does not validate to the pinned site root. */
        UNTRUSTED_CHAIN("grant.untrusted_chain"),
        /** The signing certificate is not the site's grant service ({@code spiffe://<td>/service/grants}). */
        NOT_GRANT_SERVICE("grant.not_grant_service"),
        /** The signature does not verify with the signing certificate's key. */
        BAD_SIGNATURE("grant.bad_signature"),
        /** The audience is not this actuator. */
        WRONG_AUDIENCE("grant.wrong_audience"),
        /** The grant is for another action. */
        WRONG_ACTION("grant.wrong_action"),
        /** The grant expired (beyond the allowed clock skew). */
        EXPIRED("grant.expired"),
        /** The grant is not valid yet (beyond the allowed clock skew). */
        NOT_YET_VALID("grant.not_yet_valid"),
        /** The grant claims a lifetime longer than grants may have. */
        TOO_LONG("grant.too_long"),
        /** This grant id was used before. */
        REPLAYED("grant.replayed"),
        /** The store of used grant ids cannot record this one (full, or unwritable): refused, fail closed. */
        STORE_UNAVAILABLE("grant.store_unavailable");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    private final Reason reason;

    public GrantRefusedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public GrantRefusedException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    @Override
    public String toString() {
        return reason.code() + ": " + getMessage();
    }
}
