package dev.siteward.gateway;

/**
 * The gateway's one failure type: a {@link Reason} with a stable code and HTTP status, and a message safe to send
 * to the client. Causes go to the log only.
 */
public final class GatewayException extends Exception {

    /** Why a gateway operation failed, with the HTTP status it maps to. */
    public enum Reason {
        BAD_REQUEST("request.invalid", 400),
        UNSUPPORTED_MEDIA_TYPE("request.content_type", 415),
        TOO_LARGE("request.too_large", 413),
        RATE_LIMITED("request.rate_limited", 429),
        CSR_INVALID("enrollment.csr_invalid", 400),
        TOKEN_MISSING("enrollment.token_missing", 401),
        TOKEN_INVALID("enrollment.token_invalid", 401),
        TOKEN_EXPIRED("enrollment.token_expired", 401),
        TOKEN_USED("enrollment.token_used", 403),
        TOKEN_WRONG_DEVICE("enrollment.wrong_device", 403),
        IDEVID_INVALID("enrollment.idevid_invalid", 403),
        IDEVID_NOT_REGISTERED("enrollment.idevid_not_registered", 403),
        CERTIFICATE_REQUIRED("auth.certificate_required", 401),
        CERTIFICATE_INVALID("auth.certificate_invalid", 403),
        CERTIFICATE_REVOKED("auth.certificate_revoked", 403),
        DEVICE_SUSPENDED("auth.device_suspended", 403),
        FORBIDDEN("auth.forbidden", 403),
        DEVICE_NOT_FOUND("device.not_found", 404),
        DEVICE_EXISTS("device.exists", 409),
        ADMIN_NOT_FOUND("admin.not_found", 404),
        ADMIN_EXISTS("admin.exists", 409),
        CONFLICT("request.conflict", 409),
        UNAVAILABLE("gateway.unavailable", 503),
        CLOCK_UNTRUSTED("gateway.clock_untrusted", 503),
        DATA_CLASS_UNKNOWN("data.class_unknown", 404),
        DATA_NOT_RETAINED("data.not_retained", 403),
        DATA_UNKNOWN_FIELD("data.unknown_field", 400),
        DATA_EXPORT_DENIED("data.export_denied", 403),
        DATA_TOO_LARGE("data.too_large", 413),
        INTERNAL("gateway.internal", 500);

        private final String code;
        private final int status;

        Reason(String code, int status) {
            this.code = code;
            this.status = status;
        }

        public String code() {
            return code;
        }

        public int status() {
            return status;
        }
    }

    private final Reason reason;

    public GatewayException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public GatewayException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** True when the client's input or credentials caused the failure (4xx). */
    public boolean clientError() {
        return reason.status() < 500;
    }
}
