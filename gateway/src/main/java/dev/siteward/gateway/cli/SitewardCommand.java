package dev.siteward.gateway.cli;

import dev.siteward.pki.PkiException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code siteward} command: the gateway's operator CLI. */
@Command(name = "siteward", mixinStandardHelpOptions = true, versionProvider = SitewardCommand.Version.class,
        description = "Siteward gateway: site PKI, device identities, signed models, policies.",
        subcommands = {CaCommand.class, ServeCommand.class, TokenCommand.class, DeviceCommand.class,
                ModelCommand.class, PolicyCommand.class, PublisherCommand.class, AdminCommand.class,
                StatusCommand.class, TimeCommand.class, AuditCommand.class, MqttCommand.class, BackupCommand.class,
                RestoreCommand.class, DataCommand.class, RetentionCommand.class, RolloutCommand.class,
                DemoCommand.class})
public final class SitewardCommand implements Runnable {

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of failures.")
    boolean debug;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required (see siteward --help)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (for in-process tests). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        SitewardCommand top = new SitewardCommand();
        CommandLine cmd = new CommandLine(top);
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("siteward: " + firstLine(ex.getMessage()) + " (see --help)");
            return CliException.BAD_INPUT;
        });
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            int code = exitCode(ex);
            err.println("siteward: " + firstLine(message(ex)));
            if (top.debug) {
                ex.printStackTrace(err);
            }
            return code;
        });
        return cmd.execute(args);
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof CliException c) {
            return c.exitCode();
        }
        if (ex instanceof PkiException p) {
            return p.reason().badInput() ? CliException.BAD_INPUT : CliException.INTERNAL;
        }
        if (ex instanceof IllegalArgumentException) {
            return CliException.BAD_INPUT;
        }
        if (ex instanceof dev.siteward.gateway.GatewayException g) {
            return g.clientError() ? CliException.BAD_INPUT : CliException.INTERNAL;
        }
        if (ex instanceof dev.siteward.gateway.store.StoreException) {
            return CliException.INTERNAL;
        }
        return CliException.INTERNAL;
    }

    static String message(Throwable ex) {
        if (ex instanceof CliException || ex instanceof PkiException || ex instanceof IllegalArgumentException
                || ex instanceof dev.siteward.gateway.GatewayException
                || ex instanceof dev.siteward.gateway.store.StoreException) {
            return ex.getMessage();
        }
        return "internal error: " + ex.getClass().getSimpleName() + (ex.getMessage() == null ? ""
                : ": " + ex.getMessage()) + " (run with --debug for details)";
    }

    private static String firstLine(String s) {
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
            String v = SitewardCommand.class.getPackage().getImplementationVersion();
            return new String[] {"siteward " + (v == null ? "development build" : v)};
        }
    }
}
