package dev.siteward.gateway.cli;

/** A CLI failure with its exit code and the one line to print on stderr. */
public final class CliException extends RuntimeException {

    /** Exit codes shared by every command (README, "CLI conventions"). */
    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int UNREACHABLE = 3;
    public static final int INTERNAL = 4;

    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public static CliException badInput(String message) {
        return new CliException(BAD_INPUT, message);
    }

    public int exitCode() {
        return exitCode;
    }
}
