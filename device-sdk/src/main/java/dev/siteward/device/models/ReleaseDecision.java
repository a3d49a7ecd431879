package dev.siteward.device.models;

/**
 * What the accepted metadata directs for one model, given what is installed.
 *
 * @param action  what to do
 * @param release the release the metadata lists (null when {@link Action#NOT_RELEASED})
 */
public record ReleaseDecision(Action action, ReleaseMetadata.ModelRelease release) {

    public enum Action {
        /** The metadata does not list the model for this device. */
        NOT_RELEASED,
        /** The installed version is the released one, with the same signature. */
        CURRENT,
        /** A version above the installed one (or a first install). */
        INSTALL,
        /** A lower version that fresh metadata directs ({@code rollbackFrom}), not withdrawn. */
        ROLLBACK
    }
}
