package dev.siteward.gateway.authorization;

import dev.siteward.pki.modelsig.VerificationFailure;
import java.util.Optional;

/**
 * Why a policy bundle was refused. A security refusal (bad signature, untrusted publisher, rollback, expiry, a policy
 * that does not load or fails its own tests) is never retried with the same bytes; {@link Reason#UNREADABLE} is an
 * I/O problem. The message names the problem, with {@code file:line:column} for policy errors, and holds no secrets.
 */
public final class BundleException extends Exception {

    /** The refusal reasons, each with a stable code. */
    public enum Reason {
        /** The folder or a file cannot be read, or the bundle is larger than the limits. */
        UNREADABLE("bundle.unreadable"),
        /** No {@code bundle.sig}. */
        UNSIGNED("bundle.unsigned"),
        /** No publisher is trusted for policies on this gateway. */
        NO_TRUSTED_PUBLISHER("bundle.no_trusted_publisher"),
        /** The signature, the signer's chain or a file digest does not verify (see {@link #failure()}). */
        SIGNATURE("bundle.signature"),
        /** The signature does not cover {@code siteward-bundle.yaml}. */
        METADATA_MISSING("bundle.metadata_missing"),
        /** {@code siteward-bundle.yaml} is malformed. */
        METADATA_INVALID("bundle.metadata_invalid"),
        /** The bundle's expiry has passed. */
        EXPIRED("bundle.expired"),
        /** The version is not newer than the active bundle's. */
        NOT_NEWER("bundle.not_newer"),
        /** A policy file does not load (schema, syntax, ...). */
        POLICY_INVALID("bundle.policy_invalid"),
        /** One of the bundle's own test cases fails. */
        TESTS_FAILED("bundle.tests_failed");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    private final Reason reason;
    private final transient VerificationFailure failure;

    public BundleException(Reason reason, String message) {
        this(reason, message, null, null);
    }

    public BundleException(Reason reason, String message, VerificationFailure failure, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.failure = failure;
    }

    public Reason reason() {
        return reason;
    }

    /** The stable code: the signature failure's own code for {@link Reason#SIGNATURE}, else the reason's. */
    public String code() {
        return failure != null ? failure.reason().code() : reason.code();
    }

    /** For {@link Reason#SIGNATURE}: the verification failure with the differing files. */
    public Optional<VerificationFailure> failure() {
        return Optional.ofNullable(failure);
    }

    /** One line: {@code code: message}. */
    @Override
    public String toString() {
        return code() + ": " + getMessage();
    }
}
