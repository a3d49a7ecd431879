package dev.siteward.policies;

/** The outcome of a rule or a decision. */
public enum Effect {
    /** The action is permitted. */
    ALLOW,
    /** The action is refused. */
    DENY;

    /** Returns the lower-case name used in YAML ({@code allow}, {@code deny}). */
    public String yamlName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
