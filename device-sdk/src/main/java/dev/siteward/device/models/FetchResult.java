package dev.siteward.device.models;

/**
 * The outcome of {@link ModelClient#fetch}: what happened, the version now running and the one before.
 *
 * @param version  the version the release lists (null when not released)
 * @param running  the version running now (null when none)
 * @param previous the version kept in the other slot (null when none)
 */
public record FetchResult(String model, Outcome outcome, Long version, Long running, Long previous, String slot,
        String message) {

    public enum Outcome {
        /** A newer version (or the first) was installed and passed its health check. */
        INSTALLED,
        /** A lower version was installed because fresh metadata directed a rollback. */
        ROLLED_BACK,
        /** The released version was already installed. */
        CURRENT,
        /** The metadata does not release this model to this device. */
        NOT_RELEASED,
        /** The new version failed its health check (now or earlier); the previous slot is active. */
        FALLBACK
    }
}
