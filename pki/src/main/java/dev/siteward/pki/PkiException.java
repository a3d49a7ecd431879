package dev.siteward.pki;

/**
 * The one failure type of the PKI module: a stable {@link Reason} (with its machine-readable code) and a message
 * that is safe to show to a client; the underlying cause, if any, is kept for the log only.
 */
public final class PkiException extends Exception {

    /** Why a PKI operation failed. {@link #badInput()} separates the caller's mistakes from our own failures. */
    public enum Reason {
        CSR_MALFORMED("csr.malformed", true),
        CSR_TOO_LARGE("csr.too_large", true),
        CSR_SIGNATURE_INVALID("csr.signature_invalid", true),
        CSR_WEAK_ALGORITHM("csr.weak_algorithm", true),
        CSR_KEY_UNSUPPORTED("csr.key_unsupported", true),
        CSR_REQUESTS_CA("csr.requests_ca", true),
        NAME_INVALID("pki.name_invalid", true),
        PROFILE_NOT_ALLOWED("pki.profile_not_allowed", true),
        TTL_INVALID("pki.ttl_invalid", true),
        NOT_FOUND("pki.not_found", true),
        ALREADY_REVOKED("pki.already_revoked", true),
        CA_NOT_INITIALIZED("ca.not_initialized", true),
        CA_ALREADY_INITIALIZED("ca.already_initialized", true),
        PASSPHRASE_MISSING("ca.passphrase_missing", true),
        PASSPHRASE_WRONG("ca.passphrase_wrong", true),
        PKCS11_CONFIG_INVALID("ca.pkcs11_config_invalid", true),
        PKCS11_LOGIN_FAILED("ca.pkcs11_login_failed", true),
        KEY_UNAVAILABLE("ca.key_unavailable", true),
        ROOT_IN_USE("ca.root_in_use", true),
        PROFILE_VIOLATION("pki.profile_violation", false),
        STORAGE("pki.storage", false),
        INTERNAL("pki.internal", false);

        private final String code;
        private final boolean badInput;

        Reason(String code, boolean badInput) {
            this.code = code;
            this.badInput = badInput;
        }

        /** The stable machine-readable code, e.g. {@code csr.signature_invalid}. */
        public String code() {
            return code;
        }

        /** True when the caller's input caused the failure (HTTP 4xx, CLI exit 2). */
        public boolean badInput() {
            return badInput;
        }
    }

    private final Reason reason;

    public PkiException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public PkiException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    public String code() {
        return reason.code();
    }
}
