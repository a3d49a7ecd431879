package dev.siteward.device.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.models.FetchResult;
import dev.siteward.device.models.InstalledModels;
import dev.siteward.device.models.ModelClient;
import dev.siteward.device.models.ModelSecurityException;
import dev.siteward.device.models.ModelStatus;
import dev.siteward.device.models.ModelTrustState;
import dev.siteward.device.models.ReleaseMetadata;
import dev.siteward.device.models.TrustDocument;
import dev.siteward.device.store.DeviceDirectory;
import java.io.PrintWriter;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siteward-device model}: fetch and install released models, show what is installed. */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Signed models: fetch and install what the gateway releases to this device, show status.",
        subcommands = {ModelCommand.Fetch.class, ModelCommand.Status.class})
final class ModelCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (fetch, status)");
    }

    /** Parses {@code 3d}, {@code 12h}, {@code 30m} or an ISO-8601 duration ({@code PT72H}). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.strip().toLowerCase(Locale.ROOT);
            try {
                Duration d;
                if (v.matches("\\d+[dhm]")) {
                    long n = Long.parseLong(v.substring(0, v.length() - 1));
                    d = switch (v.charAt(v.length() - 1)) {
                        case 'd' -> Duration.ofDays(n);
                        case 'h' -> Duration.ofHours(n);
                        default -> Duration.ofMinutes(n);
                    };
                } else {
                    d = Duration.parse(value.strip().toUpperCase(Locale.ROOT));
                }
                if (d.isNegative()) {
                    throw new IllegalArgumentException();
                }
                return d;
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (3d, 12h, 30m or "
                        + "ISO-8601 such as PT72H)");
            }
        }
    }

    /** Options shared by fetch and status. */
    static final class ModelOptions {
        @Option(names = "--offline-allowance", paramLabel = "DURATION", defaultValue = "3d",
                converter = DurationConverter.class,
                description = "How long after the release metadata expired the device counts as offline (told, "
                        + "model kept) rather than frozen (default 3d).")
        Duration offlineAllowance = ModelTrustState.DEFAULT_OFFLINE_ALLOWANCE;
    }

    static ModelClient client(DirOptions options, ModelOptions modelOptions, Clock clock) throws DeviceException {
        DeviceDirectory dir = options.directory();
        DeviceIdentity id = DeviceIdentity.load(dir, options.pinFile, clock);
        RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(10),
                new SecureRandom()), 4, d -> Thread.sleep(d.toMillis()));
        return ModelClient.over(new DeviceHttpClient(id, clock), dir, clock, retry, modelOptions.offlineAllowance);
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Fetch the release metadata and install NAME's released version (verified against the "
                    + "pinned publishers). Exit 0 installed or already current; 1 refused for a security reason "
                    + "(the code is printed); 2 bad input or not released to this device; 3 gateway unreachable or "
                    + "refusing; 4 local failure.")
    static final class Fetch implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "NAME", description = "The model, team/name.")
        String name;

        @Mixin
        DirOptions options;

        @Mixin
        ClockOptions clockOptions;

        @Mixin
        ModelOptions modelOptions;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws DeviceException, ModelSecurityException {
            FetchResult r = client(options, modelOptions, clockOptions.synced(options.directory())).fetch(name);
            PrintWriter out = spec.commandLine().getOut();
            switch (r.outcome()) {
                case INSTALLED, ROLLED_BACK, CURRENT -> {
                    out.println(r.message());
                    return DeviceCommand.OK;
                }
                case NOT_RELEASED -> {
                    spec.commandLine().getErr().println("siteward-device: " + r.message() + " [model.not_released]");
                    return DeviceCommand.BAD_INPUT;
                }
                default -> {
                    spec.commandLine().getErr().println("siteward-device: " + r.message()
                            + " [model.health_check_failed]");
                    return DeviceCommand.REFUSED;
                }
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show installed models (versions, slots), the pinned trust document, the release metadata "
                    + "(version, expiry, freshness) and the last result of each model. Reads the device directory "
                    + "only.")
    static final class Status implements Callable<Integer> {

        @Mixin
        DirOptions options;

        @Mixin
        ClockOptions clockOptions;

        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            DeviceDirectory dir = options.directory();
            Clock clock = clockOptions.open(dir);
            ModelStatus s = new ModelClient(dir.load(), dir, null, null, clock, RetryPolicy.once(),
                    modelOptions.offlineAllowance).status();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(
                        toJson(s)));
            } else {
                printText(out, s);
            }
            return DeviceCommand.OK;
        }

        private static ObjectNode toJson(ModelStatus s) {
            ObjectNode n = new ObjectMapper().createObjectNode();
            TrustDocument t = s.trust();
            if (t == null) {
                n.putNull("trust");
            } else {
                ObjectNode tn = n.putObject("trust");
                tn.put("version", t.version());
                tn.put("issued", t.issued().toString());
                ArrayNode pubs = tn.putArray("publishers");
                t.publishers().forEach(p -> {
                    ObjectNode pn = pubs.addObject();
                    pn.put("name", p.name());
                    ArrayNode m = pn.putArray("models");
                    p.models().forEach(m::add);
                    pn.put("roots", p.roots().size());
                });
            }
            ReleaseMetadata m = s.metadata();
            if (m == null) {
                n.putNull("metadata");
            } else {
                ObjectNode mn = n.putObject("metadata");
                mn.put("version", m.version());
                mn.put("issued", m.issued().toString());
                mn.put("expires", m.expires().toString());
                mn.put("snapshot", m.snapshot());
            }
            n.put("freshness", s.freshness().name().toLowerCase(Locale.ROOT));
            n.put("offlineAllowance", s.offlineAllowance().toString());
            ObjectNode models = n.putObject("models");
            for (String name : names(s)) {
                InstalledModels.ModelSlots slots = s.installed().model(name);
                ObjectNode mn = models.putObject(name);
                mn.put("active", slots.active());
                Long running = slots.activeSlot() == null ? null : slots.activeSlot().version();
                if (running == null) {
                    mn.putNull("version");
                } else {
                    mn.put("version", running);
                }
                ObjectNode sl = mn.putObject("slots");
                slots.slots().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
                    ObjectNode sn = sl.putObject(e.getKey());
                    sn.put("version", e.getValue().version());
                    sn.put("signatureSha256", e.getValue().signatureSha256());
                    sn.put("installedAt", e.getValue().installedAt().toString());
                    sn.put("healthFailed", e.getValue().healthFailed());
                });
                if (m != null) {
                    m.model(name).ifPresentOrElse(r -> mn.put("released", r.version()), () -> mn.putNull("released"));
                }
                var w = s.installed().withdrawn().get(name);
                if (w != null) {
                    ObjectNode wn = mn.putObject("withdrawn");
                    wn.put("below", w.below());
                    ArrayNode wv = wn.putArray("versions");
                    w.versions().forEach(wv::add);
                }
                InstalledModels.LastResult l = slots.last();
                if (l != null) {
                    ObjectNode ln = mn.putObject("last");
                    ln.put("result", l.result());
                    if (l.version() != null) {
                        ln.put("version", l.version());
                    }
                    ln.put("code", l.code());
                    ln.put("message", l.message());
                    ln.put("at", l.at().toString());
                }
            }
            return n;
        }

        private static TreeSet<String> names(ModelStatus s) {
            TreeSet<String> names = new TreeSet<>(s.installed().models().keySet());
            if (s.metadata() != null) {
                s.metadata().models().forEach(r -> names.add(r.name()));
            }
            return names;
        }

        private static void printText(PrintWriter out, ModelStatus s) {
            TrustDocument t = s.trust();
            out.println("trust document:   " + (t == null ? "none pinned (run model fetch)"
                    : "version " + t.version() + ", issued " + t.issued() + ", " + t.publishers().size()
                    + " publisher(s)"));
            ReleaseMetadata m = s.metadata();
            out.println("release metadata: " + (m == null ? "none accepted"
                    : "version " + m.version() + ", issued " + m.issued() + ", expires " + m.expires() + " ("
                    + switch (s.freshness()) {
                        case FRESH -> "fresh";
                        case OFFLINE -> "EXPIRED: offline allowance until " + m.expires().plus(s.offlineAllowance())
                                + "; installed models keep running";
                        case FROZEN -> "EXPIRED beyond the offline allowance: frozen [metadata.expired]; installed "
                                + "models keep running, nothing new is installed";
                        case NONE -> "none";
                    } + ")"));
            for (String name : names(s)) {
                InstalledModels.ModelSlots slots = s.installed().model(name);
                StringBuilder line = new StringBuilder(name + ": ");
                InstalledModels.Slot a = slots.activeSlot();
                line.append(a == null ? "not installed" : "version " + a.version() + " (slot " + slots.active()
                        + ", installed " + a.installedAt() + ")");
                InstalledModels.Slot p = slots.previous();
                if (p != null) {
                    line.append("; other slot ").append(slots.inactive()).append(": version ").append(p.version())
                            .append(p.healthFailed() ? " (failed its health check)" : "");
                }
                if (m != null) {
                    line.append("; released: ").append(m.model(name).map(r -> "version " + r.version())
                            .orElse("none"));
                }
                var w = s.installed().withdrawn().get(name);
                if (a != null && w != null && w.withdraws(a.version())) {
                    line.append("; WITHDRAWN by its publisher");
                }
                out.println(line);
                InstalledModels.LastResult l = slots.last();
                if (l != null) {
                    out.println("  last: " + l.result() + (l.code() == null ? "" : " [" + l.code() + "]") + " at "
                            + l.at() + ": " + l.message());
                }
            }
        }
    }
}
