package dev.siteward.pki.modelsig;

import java.util.Objects;

/**
 * One file that differs between the signed manifest and the model as found.
 *
 * @param name the resource name (path relative to the model root, {@code /}-separated, or {@code .})
 * @param kind how it differs
 * @param expectedSha256 the signed digest in lower-case hex, or {@code null} for an extra file
 * @param actualSha256 the computed digest in lower-case hex, or {@code null} for a missing file
 */
public record FileDifference(String name, Kind kind, String expectedSha256, String actualSha256) {

    /** How a file differs from the manifest. */
    public enum Kind {
        /** Listed in the signed manifest but not found. */
        MISSING,
        /** Found but not listed in the signed manifest. */
        EXTRA,
        /** Found and listed, with another digest. */
        DIGEST_DIFFERS
    }

    /** Validates the components. */
    public FileDifference {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + name;
    }
}
