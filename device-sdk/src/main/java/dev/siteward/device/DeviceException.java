package dev.siteward.device;

import java.time.Duration;
import java.util.Optional;

/**
 * A device SDK operation that failed, with a reason that says whether trying again can help. Security failures
 * (the gateway refused the credential or token, the gateway is not the pinned site) are never retried with the same
 * request; transport failures (gateway unreachable, busy) are retried with backoff.
 */
public final class DeviceException extends Exception {

    /** Why an operation failed. */
    public enum Reason {
        /** Bad input from the caller (URL, fingerprint, token format, missing directory). */
        BAD_INPUT("device.bad_input", Kind.INPUT),
        /** The device directory holds no identity yet (enroll first), or already holds one. */
        NOT_ENROLLED("device.not_enrolled", Kind.INPUT),
        ALREADY_ENROLLED("device.already_enrolled", Kind.INPUT),
        /** The gateway could not be reached, timed out, or answered 5xx: try again later. */
        UNREACHABLE("device.gateway_unreachable", Kind.TRANSPORT),
        /** The gateway asked us to slow down (429): try again after the delay it gave. */
        RATE_LIMITED("device.rate_limited", Kind.TRANSPORT),
        /** The gateway refused the token or the device certificate (401/403, or a refused TLS handshake). */
        REFUSED("device.refused", Kind.SECURITY),
        /** The gateway refused the request as malformed (other 4xx). */
        REJECTED("device.rejected", Kind.SECURITY),
        /** The server is not the pinned site: its chain does not lead to the root with the pinned fingerprint. */
        UNTRUSTED_GATEWAY("device.untrusted_gateway", Kind.SECURITY),
        /** The gateway's answer was unreadable or did not match what was asked (wrong key, wrong identity). */
        PROTOCOL("device.protocol", Kind.SECURITY),
        /** The gateway's time was not believed (its clock untrusted, too slow an answer, or behind the record). */
        GATEWAY_TIME_UNTRUSTED("device.gateway_time_untrusted", Kind.SECURITY),
        /** The device directory or key store could not be read or written. */
        STORAGE("device.storage", Kind.LOCAL),
        /** The key could not be generated or used (PKCS#11 token, PIN, PKCS#12 file). */
        KEY_UNAVAILABLE("device.key_unavailable", Kind.LOCAL);

        private final String code;
        private final Kind kind;

        Reason(String code, Kind kind) {
            this.code = code;
            this.kind = kind;
        }

        /** A stable machine-readable code. */
        public String code() {
            return code;
        }

        public Kind kind() {
            return kind;
        }
    }

    /** The class of a failure: what a caller should do about it. */
    public enum Kind {
        /** Fix the input; retrying the same call fails the same way. */
        INPUT,
        /** Retry later with backoff. */
        TRANSPORT,
        /** Report it; never retry the same request. */
        SECURITY,
        /** A local problem (disk, token). */
        LOCAL
    }

    private final Reason reason;
    private final String gatewayCode;
    private final Duration retryAfter;

    public DeviceException(Reason reason, String message) {
        this(reason, message, null, null, null);
    }

    public DeviceException(Reason reason, String message, Throwable cause) {
        this(reason, message, null, null, cause);
    }

    public DeviceException(Reason reason, String message, String gatewayCode, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.gatewayCode = gatewayCode;
        this.retryAfter = retryAfter;
    }

    public Reason reason() {
        return reason;
    }

    /** True when trying again later (with backoff) may succeed: the gateway was unreachable or busy. */
    public boolean retryable() {
        return reason.kind() == Kind.TRANSPORT;
    }

    /** The gateway's stable error code ({@code enrollment.token_used}, ...), when it sent one. */
    public Optional<String> gatewayCode() {
        return Optional.ofNullable(gatewayCode);
    }

    /** The delay the gateway asked for (429 Retry-After), when it gave one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
