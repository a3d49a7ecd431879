package dev.siteward.pki.modelsig;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * A publisher's statement that versions of its model must no longer be installed: every version below
 * {@code withdrawnBelow} (when present) and every version listed in {@code withdrawnVersions}.
 *
 * <p>Signed like a model signature (Sigstore bundle, DSSE, in-toto Statement v1) with predicate type
 * {@value #PREDICATE_TYPE}; see {@code docs/model-signing.md}.
 *
 * @param modelName the model's name, e.g. {@code vision/people-counter}
 * @param withdrawnBelow versions strictly below this are withdrawn; empty for none
 * @param withdrawnVersions versions withdrawn individually (sorted, without duplicates)
 * @param issuedAt when the publisher issued the statement (second precision)
 * @param reason a short human-readable reason, or empty
 */
public record Withdrawal(String modelName, OptionalLong withdrawnBelow, List<Long> withdrawnVersions,
                         Instant issuedAt, String reason) {

    /** The in-toto predicate type of a withdrawal. */
    public static final String PREDICATE_TYPE = "https://siteward.dev/withdrawal/v1";

    /** Validates the components and normalizes the version list. */
    public Withdrawal {
        Objects.requireNonNull(modelName, "modelName");
        Objects.requireNonNull(withdrawnBelow, "withdrawnBelow");
        Objects.requireNonNull(issuedAt, "issuedAt");
        reason = reason == null ? "" : reason;
        if (modelName.isBlank()) {
            throw new IllegalArgumentException("model name is empty");
        }
        TreeSet<Long> versions = new TreeSet<>(withdrawnVersions);
        if (versions.stream().anyMatch(v -> v < 0) || withdrawnBelow.orElse(0) < 0) {
            throw new IllegalArgumentException("versions are non-negative");
        }
        if (withdrawnBelow.isEmpty() && versions.isEmpty()) {
            throw new IllegalArgumentException("a withdrawal withdraws at least one version");
        }
        withdrawnVersions = List.copyOf(versions);
        issuedAt = Instant.ofEpochSecond(issuedAt.getEpochSecond());
    }

    /** Returns a withdrawal of every version of {@code modelName} below {@code version}. */
    public static Withdrawal below(String modelName, long version, Instant issuedAt) {
        return new Withdrawal(modelName, OptionalLong.of(version), List.of(), issuedAt, "");
    }

    /** Returns true when this statement withdraws {@code version}. */
    public boolean withdraws(long version) {
        return (withdrawnBelow.isPresent() && version < withdrawnBelow.getAsLong())
                || withdrawnVersions.contains(version);
    }
}
