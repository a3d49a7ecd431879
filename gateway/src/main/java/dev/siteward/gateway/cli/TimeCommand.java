package dev.siteward.gateway.cli;

import dev.siteward.gateway.time.TimeGuard;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code siteward time show|accept}: trusted time. The gateway refuses to act on a clock earlier than the latest
 * time it recorded; {@code accept} is the operator confirming the clock is right.
 */
@Command(name = "time", mixinStandardHelpOptions = true, description = "Trusted time: the gateway's clock and the "
        + "latest time it recorded.", subcommands = {TimeCommand.Show.class, TimeCommand.Accept.class})
public final class TimeCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: show or accept");
    }

    abstract static class Base implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;

        void print(TimeGuard.Status s, boolean json) throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(DeviceCommand.JSON.writeValueAsString(s));
                return;
            }
            out.println("time            " + s.time());
            out.println("last recorded   " + (s.lastRecorded() == null ? "-" : s.lastRecorded()));
            out.println("clock trusted   " + (s.trusted() ? "yes" : "no: earlier than the last recorded time by more "
                    + "than " + s.tolerance() + "; fix the clock or run 'siteward time accept'"));
            if (s.forwardJumpAt() != null) {
                out.println("forward jump    " + s.forwardJump() + " at " + s.forwardJumpAt() + " (not confirmed)");
            }
            if (s.acceptedAt() != null) {
                out.println("last accepted   " + s.acceptedAt() + " by " + s.acceptedBy());
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show the clock, the latest recorded time and whether the clock is trusted (exit 1 if not).")
    static final class Show extends Base {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                TimeGuard.Status s = ops.timeStatus();
                print(s, json);
                return s.trusted() ? CliException.OK : CliException.CHECK_FAILED;
            }
        }
    }

    @Command(name = "accept", mixinStandardHelpOptions = true,
            description = "Confirm that the clock is right although it is earlier than the latest recorded time (or "
                    + "jumped forward): the recorded time becomes now and the gateway acts again.")
    static final class Accept extends Base {
        @Override
        public Integer call() throws Exception {
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                print(ops.acceptTime(), false);
                return CliException.OK;
            }
        }
    }
}
