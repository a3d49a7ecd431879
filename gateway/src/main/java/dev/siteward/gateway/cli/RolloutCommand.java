package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siteward rollout ...}: staged rollouts of published model versions (docs/rollouts.md). */
@Command(name = "rollout", mixinStandardHelpOptions = true,
        description = "Staged rollouts: start, status, pause, resume, abort, rollback.",
        subcommands = {RolloutCommand.Start.class, RolloutCommand.Status.class, RolloutCommand.Pause.class,
                RolloutCommand.Resume.class, RolloutCommand.Abort.class, RolloutCommand.Rollback.class})
public final class RolloutCommand implements Runnable {

    static final Pattern ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    static final Pattern PERCENT = Pattern.compile("(100|[0-9]{1,2})(\\.[0-9]{1,2})?%");

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: start, status, pause, resume, abort or rollback");
    }

    static String id(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw CliException.badInput("rollout id '" + id + "' is not a rollout id (as printed by 'rollout start')");
        }
        return id;
    }

    /** Parses {@code 5%} (or {@code 2.5%}) into a share in [0, 1]. */
    static double share(String text) {
        if (text == null || !PERCENT.matcher(text.strip()).matches()) {
            throw CliException.badInput("--max-failure '" + text + "' must be a percentage like 5%");
        }
        String t = text.strip();
        return new BigDecimal(t.substring(0, t.length() - 1)).movePointLeft(2).doubleValue();
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = {"Start rolling out a published version of model NAME to channel C through stages; prints "
                    + "the rollout id.",
                    "Stages are percentages of the channel's devices (a device's place is stable: one in 1% is in "
                            + "10%) or label selectors like zone=line-3; each soaks at least --soak and expands only "
                            + "when its devices installed it and report healthy."})
    static final class Start implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", paramLabel = "NAME", description = "Model name (team/name).")
        String name;

        @Option(names = "--version", required = true, paramLabel = "N", description = "Published version.")
        long version;

        @Option(names = "--channel", required = true, paramLabel = "C", description = "Channel, e.g. stable.")
        String channel;

        @Option(names = "--stages", required = true, paramLabel = "STAGES",
                description = "Comma-separated stages, e.g. 1%,10%,50%,100% or zone=line-3,100%.")
        String stages;

        @Option(names = "--soak", defaultValue = "0s", paramLabel = "DURATION",
                description = "Minimum time per stage, e.g. 30m. Default: ${DEFAULT-VALUE}.")
        String soak;

        @Option(names = "--max-failure", defaultValue = "5%", paramLabel = "PERCENT",
                description = "Halt when more than this share of a stage's devices failed. Default: "
                        + "${DEFAULT-VALUE}.")
        String maxFailure;

        @Option(names = "--auto-rollback", description = "Roll back automatically when the rollout halts.")
        boolean autoRollback;

        @Option(names = "--shadow", description = "Also run the version in shadow mode beside the active one on the "
                + "readings of every targeted device it has not reached yet; results are compared, never published.")
        boolean shadow;

        @Option(names = "--shadow-for", paramLabel = "DURATION",
                description = "How long shadow mode runs (with --shadow), at most 30d. Default: 1h.")
        String shadowFor;

        @Option(names = "--shadow-tolerance", paramLabel = "X",
                description = "Largest difference of the decision scores that still agrees (with --shadow), 0..1. "
                        + "Default: 0.1.")
        String shadowTolerance;

        @Override
        public Integer call() throws Exception {
            Duration soakTime;
            try {
                soakTime = DurationText.parse(soak);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput("--soak: " + e.getMessage());
            }
            if (!shadow && (shadowFor != null || shadowTolerance != null)) {
                throw CliException.badInput("--shadow-for and --shadow-tolerance need --shadow");
            }
            Duration shadowTime = null;
            Double tolerance = null;
            if (shadow) {
                try {
                    shadowTime = DurationText.parse(shadowFor == null ? "1h" : shadowFor);
                } catch (IllegalArgumentException e) {
                    throw CliException.badInput("--shadow-for: " + e.getMessage());
                }
                if (shadowTime.isZero() || shadowTime.compareTo(Duration.ofDays(30)) > 0) {
                    throw CliException.badInput("--shadow-for must be above 0 and at most 30d");
                }
                if (shadowTolerance != null) {
                    try {
                        tolerance = Double.parseDouble(shadowTolerance.strip());
                    } catch (NumberFormatException e) {
                        tolerance = Double.NaN;
                    }
                    if (!(tolerance >= 0 && tolerance <= 1)) {
                        throw CliException.badInput("--shadow-tolerance '" + shadowTolerance
                                + "' must be a number from 0 to 1");
                    }
                }
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("version", version);
            body.put("channel", channel);
            body.put("stages", stages);
            body.put("soakSeconds", soakTime.toSeconds());
            body.put("maxFailure", share(maxFailure));
            body.put("autoRollback", autoRollback);
            if (shadow) {
                body.put("shadowSeconds", shadowTime.toSeconds());
                if (tolerance != null) {
                    body.put("shadowTolerance", tolerance);
                }
            }
            try (RolloutOperations ops = RolloutOperations.open(dataDir)) {
                JsonNode r = ops.start(body);
                spec.commandLine().getOut().println(r.at("/rollout/id").asText());
            }
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show one rollout (per stage: targeted, downloaded, installed, healthy, failed, offline, "
                    + "and why it halted), or every rollout without ID.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "Rollout id.")
        String id;

        @Option(names = "--json", description = "Print the admin API's JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (RolloutOperations ops = RolloutOperations.open(dataDir)) {
                JsonNode r = id == null ? ops.list() : ops.status(id(id));
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(RolloutOperations.JSON.writeValueAsString(r));
                    return 0;
                }
                if (id == null) {
                    if (r.isEmpty()) {
                        out.println("no rollouts");
                    }
                    for (JsonNode s : r) {
                        print(out, s, false);
                    }
                } else {
                    print(out, r, true);
                }
            }
            return 0;
        }

        static void print(PrintWriter out, JsonNode status, boolean detail) {
            JsonNode ro = status.get("rollout");
            JsonNode stages = status.get("stages");
            int current = ro.get("currentStage").asInt();
            out.printf("%s  %s version %d -> %s  %s  stage %d/%d (%s)%s%n", ro.get("id").asText(),
                    ro.get("model").asText(), ro.get("version").asLong(), ro.get("channel").asText(),
                    ro.get("state").asText().toUpperCase(java.util.Locale.ROOT), current + 1, stages.size(),
                    stages.get(current).get("stage").asText(),
                    ro.get("previousVersion").isNull() ? "" : ", previous version " + ro.get("previousVersion")
                            .asLong());
            if (!ro.path("haltReason").isNull() && !ro.path("haltReason").isMissingNode()) {
                out.println("  halted: " + ro.get("haltReason").asText());
            }
            if (!detail) {
                JsonNode sh = status.path("shadow");
                if (sh.isObject()) {
                    out.printf("  shadow: version %d %s, compared %d, agreed %s%n", sh.path("version").asLong(),
                            sh.path("live").asBoolean() ? "running" : "ended", sh.path("compared").asLong(),
                            rate(sh.path("agreementRate")));
                }
                return;
            }
            out.printf("  started %s by %s; stage started %s; soak %s; max failure %s; auto-rollback %s%n",
                    ro.get("createdAt").asText(), ro.get("createdBy").asText(), ro.get("stageStartedAt").asText(),
                    soak(ro.get("soak")), BigDecimal.valueOf(ro.get("maxFailure").asDouble()).movePointRight(2)
                            .stripTrailingZeros().toPlainString() + "%", ro.get("autoRollback").asBoolean()
                            ? "on" : "off");
            out.printf("  %-16s %8s %10s %9s %7s %6s %7s%n", "STAGE", "TARGETED", "DOWNLOADED", "INSTALLED",
                    "HEALTHY", "FAILED", "OFFLINE");
            int i = 0;
            for (JsonNode s : stages) {
                out.printf("  %-16s %8d %10d %9d %7d %6d %7d%s%n", (i == current ? "* " : "  ") + s.get("stage")
                                .asText(), s.get("targeted").asInt(), s.get("downloaded").asInt(),
                        s.get("installed").asInt(), s.get("healthy").asInt(), s.get("failed").asInt(),
                        s.get("offline").asInt(), s.get("reached").asBoolean() ? "" : "  (not reached)");
                i++;
            }
            JsonNode failures = stages.get(current).get("failures");
            if (failures != null && !failures.isEmpty()) {
                out.println("  failures at the current stage (first " + failures.size() + "):");
                failures.forEach(f -> out.println("    " + f.asText()));
            }
            printShadow(out, status.path("shadow"));
        }

        /** The shadow comparison of a rollout started with --shadow (docs/rollouts.md, "Shadow mode"). */
        static void printShadow(PrintWriter out, JsonNode sh) {
            if (sh.isMissingNode() || sh.isNull()) {
                return;
            }
            out.printf("  shadow: version %d %s until %s; tolerance %s%n", sh.path("version").asLong(),
                    sh.path("live").asBoolean() ? "running" : "ended", sh.path("until").asText(),
                    sh.path("tolerance").asText());
            out.printf("    compared %d, agreed %d (%s), decisions equal %d (%s), shadow errors %d, shadow shed %d%n",
                    sh.path("compared").asLong(), sh.path("agreed").asLong(), rate(sh.path("agreementRate")),
                    sh.path("decisionsEqual").asLong(), rate(sh.path("decisionAgreementRate")),
                    sh.path("shadowErrors").asLong(), sh.path("shed").asLong());
            out.printf("    latency ms p50/p99: active %s/%s, shadow %s/%s%n",
                    ms(sh.path("activeLatencyMs").path("p50")), ms(sh.path("activeLatencyMs").path("p99")),
                    ms(sh.path("shadowLatencyMs").path("p50")), ms(sh.path("shadowLatencyMs").path("p99")));
        }

        private static String rate(JsonNode n) {
            return n.isNumber() ? BigDecimal.valueOf(n.asDouble()).movePointRight(2).setScale(1,
                    java.math.RoundingMode.HALF_UP).toPlainString() + "%" : "-";
        }

        private static String ms(JsonNode n) {
            return n.isNumber() ? n.asText() : "-";
        }

        static String soak(JsonNode n) {
            Duration d = n.isNumber() ? Duration.ofMillis((long) (n.asDouble() * 1000)) : Duration.parse(n.asText());
            return DurationText.format(d);
        }
    }

    abstract static class Action implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDir dataDir;

        @Parameters(index = "0", paramLabel = "ID", description = "Rollout id.")
        String id;

        abstract String action();

        @Override
        public Integer call() throws Exception {
            try (RolloutOperations ops = RolloutOperations.open(dataDir)) {
                JsonNode r = ops.act(id(id), action());
                Status.print(spec.commandLine().getOut(), r, false);
            }
            return 0;
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Stop expanding a running rollout.")
    static final class Pause extends Action {
        @Override
        String action() {
            return "pause";
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Continue a paused or halted rollout at its current stage.")
    static final class Resume extends Action {
        @Override
        String action() {
            return "resume";
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true,
            description = "Stop the rollout for good, leaving devices where they are.")
    static final class Abort extends Action {
        @Override
        String action() {
            return "abort";
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Return every device the rollout reached to the previous version (new metadata with "
                    + "rollbackFrom; replayed older metadata stays refused).")
    static final class Rollback extends Action {
        @Override
        String action() {
            return "rollback";
        }
    }
}
