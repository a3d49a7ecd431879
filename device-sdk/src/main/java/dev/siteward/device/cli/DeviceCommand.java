package dev.siteward.device.cli;

import dev.siteward.device.DeviceException;
import dev.siteward.device.models.ModelSecurityException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code siteward-device} command: enroll a device with its site gateway, renew its certificate, show its
 * status, install released models. Exit codes: 0 done; 1 a model release refused for a security reason (model
 * fetch); 2 usage or bad input; 3 gateway unreachable, not the pinned site, or credential
 * refused; 4 local failure (device directory, key store).
 */
@Command(name = "siteward-device", mixinStandardHelpOptions = true, versionProvider = DeviceCommand.Version.class,
        description = "Siteward device identity: enroll with a site gateway, renew, show status.",
        subcommands = {EnrollCommand.class, RenewCommand.class, StatusCommand.class, ModelCommand.class,
                HeartbeatCommand.class, SenseCommand.class, TimeCommand.class})
public final class DeviceCommand implements Runnable {

    public static final int OK = 0;
    /** A model release refused for a security reason (model fetch). */
    public static final int REFUSED = 1;
    public static final int BAD_INPUT = 2;
    public static final int GATEWAY = 3;
    public static final int LOCAL = 4;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of failures.")
    boolean debug;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this),
                "a command is required (enroll, renew, status, model)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (for in-process tests). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        DeviceCommand top = new DeviceCommand();
        CommandLine cmd = new CommandLine(top);
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("siteward-device: " + firstLine(ex.getMessage()) + " (see --help)");
            return BAD_INPUT;
        });
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            err.println("siteward-device: " + firstLine(message(ex)));
            if (top.debug) {
                ex.printStackTrace(err);
            }
            return exitCode(ex);
        });
        return cmd.execute(args);
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof ModelSecurityException) {
            return REFUSED;
        }
        if (ex instanceof DeviceException d) {
            return switch (d.reason().kind()) {
                case INPUT -> BAD_INPUT;
                case TRANSPORT, SECURITY -> GATEWAY;
                case LOCAL -> LOCAL;
            };
        }
        if (ex instanceof IllegalArgumentException) {
            return BAD_INPUT;
        }
        return LOCAL;
    }

    static String message(Throwable ex) {
        if (ex instanceof ModelSecurityException m) {
            return "refused: " + m.getMessage() + " [" + m.code().code() + "]";
        }
        if (ex instanceof DeviceException d) {
            return d.getMessage() + " [" + d.reason().code() + "]";
        }
        if (ex instanceof IllegalArgumentException) {
            return ex.getMessage();
        }
        return "internal error: " + ex.getClass().getSimpleName() + (ex.getMessage() == null ? ""
                : ": " + ex.getMessage()) + " (run with --debug for details)";
    }

    static String firstLine(String s) {
        if (s == null) {
            return "failed";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Reports the implementation version from the jar manifest. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = DeviceCommand.class.getPackage().getImplementationVersion();
            return new String[] {"siteward-device " + (v == null ? "development build" : v)};
        }
    }
}
