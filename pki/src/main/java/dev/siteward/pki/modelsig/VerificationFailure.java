package dev.siteward.pki.modelsig;

import java.util.List;
import java.util.Objects;

/**
 * Why verification failed: a reason, a message safe to show to an operator, and for
 * {@link FailureReason#DIGEST_MISMATCH} the per-file differences (sorted by name).
 */
public record VerificationFailure(FailureReason reason, String message, List<FileDifference> differences) {

    /** Validates and copies the components. */
    public VerificationFailure {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        differences = List.copyOf(differences);
    }

    @Override
    public String toString() {
        return reason.code() + ": " + message;
    }
}
