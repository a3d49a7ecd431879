package dev.siteward.policies;

import java.util.Objects;

/**
 * A name or a prefix wildcard: {@code valve-07} matches itself; {@code valve-*} and {@code valve.*} match every
 * name starting with {@code valve-} / {@code valve.}; a lone {@code *} matches every name.
 *
 * <p>Only a trailing {@code *} is a wildcard; the loader refuses any other {@code *} ({@code policy.bad_wildcard}).
 *
 * @param text    the pattern as written
 * @param literal the fixed part (the whole text, or the text before the trailing {@code *})
 * @param prefix  true when the pattern ends in {@code *}
 */
public record NamePattern(String text, String literal, boolean prefix) {

    /** Checks that text and literal are present. */
    public NamePattern {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(literal, "literal");
    }

    /** Parses a pattern that has already been validated (at most one trailing {@code *}). */
    public static NamePattern of(String text) {
        if (text.endsWith("*")) {
            return new NamePattern(text, text.substring(0, text.length() - 1), true);
        }
        return new NamePattern(text, text, false);
    }

    /** Returns true when {@code name} matches this pattern. */
    public boolean matches(String name) {
        return prefix ? name.startsWith(literal) : name.equals(literal);
    }

    /** Returns true when every name matched by {@code other} is also matched by this pattern. */
    public boolean covers(NamePattern other) {
        if (prefix) {
            return other.literal.startsWith(literal);
        }
        return !other.prefix && other.literal.equals(literal);
    }

    @Override
    public String toString() {
        return text;
    }
}
