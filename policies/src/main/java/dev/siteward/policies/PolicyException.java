package dev.siteward.policies;

import java.util.List;
import java.util.Objects;

/**
 * Reports that policy input is unusable: every problem found, each with a stable code and a file:line:column.
 *
 * <p>This is the only exception type of the module. A loader that throws it produced nothing: there is no
 * half-valid policy set. {@link #problems()} lists all problems found (across all files); {@link #reason()}
 * and {@link #location()} describe the first. Messages name policy files and rule ids only; they never
 * contain request data, so they are safe to show to an administrator.
 */
public final class PolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why policy input was refused; {@link #code()} is stable and machine-readable. */
    public enum Reason {
        /** A file could not be read, or the bundle directory does not exist. */
        IO("policy.io"),
        /** The bundle has no policy file. */
        EMPTY_BUNDLE("policy.empty_bundle"),
        /** The YAML is malformed (including duplicate keys and multiple documents). */
        SYNTAX("policy.syntax"),
        /** {@code schemaVersion} is missing or not one this library reads. */
        SCHEMA_VERSION("policy.schema_version"),
        /** A value has the wrong type, a required key is missing or a value is out of range. */
        SCHEMA("policy.schema"),
        /** A key is not part of the schema. */
        UNKNOWN_KEY("policy.unknown_key"),
        /** A wildcard is misplaced (only a trailing {@code *} or a lone {@code *} is allowed). */
        BAD_WILDCARD("policy.bad_wildcard"),
        /** A time zone is not a valid IANA zone id. */
        BAD_TIME_ZONE("policy.bad_time_zone"),
        /** A time window has an impossible time of day. */
        BAD_TIME_WINDOW("policy.bad_time_window"),
        /** Two rules share an id. */
        DUPLICATE_ID("policy.duplicate_id"),
        /** Two files declare different site settings (e.g. two time zones). */
        SITE_CONFLICT("policy.site_conflict"),
        /** A test case file is malformed (bad instant, unknown key...). */
        BAD_TEST_CASE("policy.bad_test_case"),
        /** A retention rule names a field its class does not declare (or exports a dropped one). */
        UNKNOWN_FIELD("policy.unknown_field"),
        /** A retention section names a data class that does not exist. */
        UNKNOWN_CLASS("policy.unknown_class"),
        /** A retention value is out of range (a size too large, a hold whose range is empty, a bad instant). */
        BAD_RETENTION("policy.bad_retention");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        /** Returns the stable code, e.g. {@code policy.duplicate_id}. */
        public String code() {
            return code;
        }
    }

    /**
     * One problem at one place.
     *
     * @param reason   why
     * @param location where (file always set; line/column when known)
     * @param message  what, in words, without the location
     */
    public record Problem(Reason reason, SourceLocation location, String message) {

        /** Checks that every field is present. */
        public Problem {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(location, "location");
            Objects.requireNonNull(message, "message");
        }

        /** Returns the stable code of the reason. */
        public String code() {
            return reason.code();
        }

        /** Renders {@code file:line:column: code: message}. */
        @Override
        public String toString() {
            return location + ": " + reason.code() + ": " + message;
        }
    }

    private final transient List<Problem> problems;

    /** Creates an exception for one problem. */
    public PolicyException(Reason reason, SourceLocation location, String message) {
        this(List.of(new Problem(reason, location, message)));
    }

    /** Creates an exception carrying all given problems (at least one). */
    public PolicyException(List<Problem> problems) {
        super(render(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a PolicyException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    private static String render(List<Problem> problems) {
        if (problems.size() == 1) {
            return problems.get(0).toString();
        }
        StringBuilder sb = new StringBuilder(problems.size() + " problems:");
        for (Problem p : problems) {
            sb.append(System.lineSeparator()).append("  ").append(p);
        }
        return sb.toString();
    }

    /** Returns every problem found, in file order. */
    public List<Problem> problems() {
        return problems;
    }

    /** Returns the reason of the first problem. */
    public Reason reason() {
        return problems.get(0).reason();
    }

    /** Returns the stable code of the first problem, e.g. {@code policy.syntax}. */
    public String code() {
        return reason().code();
    }

    /** Returns where the first problem is. */
    public SourceLocation location() {
        return problems.get(0).location();
    }
}
