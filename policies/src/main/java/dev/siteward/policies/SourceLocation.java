package dev.siteward.policies;

import java.nio.file.Path;

/**
 * Points at a place in a policy or test file; line and column are 1-based, 0 when unknown.
 *
 * @param file   the file, as given to the loader
 * @param line   1-based line, or 0 when unknown
 * @param column 1-based column, or 0 when unknown
 */
public record SourceLocation(Path file, int line, int column) {

    /** Returns a location naming only a file (line and column unknown). */
    public static SourceLocation of(Path file) {
        return new SourceLocation(file, 0, 0);
    }

    /** Renders {@code file:line:column}, omitting what is unknown. */
    @Override
    public String toString() {
        String f = String.valueOf(file);
        if (line <= 0) {
            return f;
        }
        return column <= 0 ? f + ":" + line : f + ":" + line + ":" + column;
    }
}
