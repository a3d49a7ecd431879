package dev.siteward.gateway.cli;

import dev.siteward.gateway.retention.RetentionReport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward retention ...}: what the retention rules keep (docs/retention.md). */
@Command(name = "retention", mixinStandardHelpOptions = true, description = "Retention of device data.",
        subcommands = {RetentionCommand.Report.class})
public final class RetentionCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: report");
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Per data class: records, bytes, oldest record, next purge, legal holds, last purge.")
    static final class Report implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;
        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            RetentionReport.Report r;
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                r = ops.retentionReport();
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(DeviceCommand.JSON.writeValueAsString(r));
            } else {
                out.printf("%-18s %-8s %10s %14s  %-24s %-24s %s%n", "CLASS", "RULE", "RECORDS", "BYTES", "OLDEST",
                        "NEXT PURGE", "HOLDS");
                for (RetentionReport.ClassReport c : r.classes()) {
                    String rule = !c.retained() ? "none" : (c.maxAge() == null ? "" : age(c.maxAge()))
                            + (c.maxBytes() == null ? "" : (c.maxAge() == null ? "" : "/") + c.maxBytes() + "B");
                    out.printf("%-18s %-8s %10d %14d  %-24s %-24s %s%n", c.dataClass(), rule.isEmpty() ? "keep" : rule,
                            c.records(), c.bytes(), c.oldest() == null ? "-" : c.oldest(),
                            c.nextPurge() == null ? "-" : c.nextPurge(),
                            c.holds().isEmpty() ? "-" : c.holds().stream().map(RetentionReport.Hold::id)
                                    .collect(Collectors.joining(",")));
                    if (c.purgeUnfinished()) {
                        out.println("  " + c.dataClass() + ": a purge was cut off; the next run finishes it");
                    }
                }
                if (r.purgePaused() != null) {
                    out.println("purge paused: " + r.purgePaused());
                }
            }
            out.flush();
            return CliException.OK;
        }

        private static String age(String iso) {
            java.time.Duration d = java.time.Duration.parse(iso);
            return d.toDaysPart() > 0 && d.toHoursPart() == 0 && d.toMinutesPart() == 0 ? d.toDays() + "d"
                    : d.toHours() > 0 && d.toMinutesPart() == 0 ? d.toHours() + "h" : d.toMinutes() + "m";
        }
    }
}
