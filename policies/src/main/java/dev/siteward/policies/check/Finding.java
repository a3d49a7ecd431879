package dev.siteward.policies.check;

import dev.siteward.policies.SourceLocation;

/**
 * One problem found by {@link PolicyChecker}.
 *
 * @param code     stable code: {@code policy.*} for load errors, {@code lint.*} for lint findings
 * @param severity error or warning
 * @param location file:line:column
 * @param ruleId   the rule concerned, or {@code null}
 * @param message  what is wrong, in words
 */
public record Finding(String code, Severity severity, SourceLocation location, String ruleId, String message) {

    /** Renders {@code file:line:column: severity code: message}. */
    @Override
    public String toString() {
        return location + ": " + severity.name().toLowerCase(java.util.Locale.ROOT) + " " + code + ": " + message;
    }
}
