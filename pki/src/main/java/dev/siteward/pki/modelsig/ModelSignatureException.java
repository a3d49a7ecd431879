package dev.siteward.pki.modelsig;

import java.util.List;

/**
 * A security failure while signing or verifying a model: the bytes, the signature or the paths are not acceptable.
 *
 * <p>Never retried with the same input. I/O failures (an unreadable file) are reported as {@link java.io.IOException}
 * instead, so callers can map them differently (the CLI exits 1 for this exception and 2 for I/O errors).
 */
public final class ModelSignatureException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient VerificationFailure failure;

    /** Creates the exception for a failure with its reason, message and per-file differences. */
    public ModelSignatureException(VerificationFailure failure) {
        super(failure.reason().code() + ": " + failure.message());
        this.failure = failure;
    }

    /** Creates the exception for a reason and message without per-file differences. */
    public ModelSignatureException(FailureReason reason, String message) {
        this(new VerificationFailure(reason, message, List.of()));
    }

    /** Returns the structured failure. */
    public VerificationFailure failure() {
        return failure;
    }

    /** Returns the reason code of the failure. */
    public FailureReason reason() {
        return failure.reason();
    }
}
