package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.siteward.gateway.devices.Device;
import dev.siteward.gateway.devices.DeviceCertificate;
import dev.siteward.gateway.devices.Labels;
import dev.siteward.pki.SpiffeId;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward device ...}: the device registry. */
@Command(name = "device", mixinStandardHelpOptions = true, description = "Device registry.",
        subcommands = {DeviceCommand.ListDevices.class, DeviceCommand.Show.class, DeviceCommand.Register.class,
                DeviceCommand.Label.class, DeviceCommand.Suspend.class, DeviceCommand.Resume.class,
                DeviceCommand.Revoke.class})
public final class DeviceCommand implements Runnable {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: list, show, register, label, suspend, resume or revoke");
    }

    /** Options shared by every device command. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        static String id(String id) {
            return SpiffeId.requireName(id, "device id");
        }

        void print(Device d, boolean json) throws Exception {
            if (json) {
                out().println(JSON.writeValueAsString(d));
                return;
            }
            out().println("id             " + d.id());
            out().println("status         " + d.status().dbName());
            out().println("labels         " + labels(d.labels()));
            out().println("registered     " + (d.registered() ? "yes" : "no")
                    + (d.idevidSerial() == null ? "" : " (factory certificate serial " + d.idevidSerial() + ")"));
            out().println("enrolled       " + text(d.enrolledAt()));
            out().println("last seen      " + text(d.lastSeenAt()));
            for (DeviceCertificate c : d.certificates()) {
                out().println("certificate    " + c.serial() + " valid until " + c.notAfter()
                        + (c.revokedAt() == null ? "" : ", revoked " + c.revokedAt()));
            }
        }
    }

    static String labels(Map<String, String> labels) {
        List<String> parts = new ArrayList<>();
        labels.forEach((k, v) -> parts.add(k + "=" + v));
        return parts.isEmpty() ? "-" : String.join(",", parts);
    }

    static String text(Instant t) {
        return t == null ? "-" : t.toString();
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List devices.")
    static final class ListDevices extends Base {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            List<Device> devices;
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                devices = ops.listDevices();
            }
            Map<String, List<com.fasterxml.jackson.databind.JsonNode>> drift = DeviceDrift.drifting(dataDir);
            if (json) {
                com.fasterxml.jackson.databind.node.ArrayNode all = JSON.valueToTree(devices);
                for (com.fasterxml.jackson.databind.JsonNode d : all) {
                    ((com.fasterxml.jackson.databind.node.ObjectNode) d).set("drift",
                            JSON.valueToTree(drift.getOrDefault(d.path("id").asText(), List.of())));
                }
                out().println(JSON.writeValueAsString(all));
                return 0;
            }
            com.fasterxml.jackson.databind.JsonNode health = fleetHealth();
            out().printf("%-24s %-10s %-28s %-22s %-24s %-28s %-20s %-24s %s%n", "ID", "STATUS", "LABELS",
                    "CERTIFICATE EXPIRES", "LAST SEEN", "MODELS", "LAST HEARTBEAT", "HEALTH", "DRIFT");
            Instant now = Instant.now();
            for (Device d : devices) {
                DeviceCertificate c = d.currentCertificate(now);
                com.fasterxml.jackson.databind.JsonNode h = health.path(d.id());
                List<String> models = new ArrayList<>();
                h.path("models").fields().forEachRemaining(e -> models.add(e.getKey() + "@" + e.getValue().asText()));
                out().printf("%-24s %-10s %-28s %-22s %-24s %-28s %-20s %-24s %s%n", d.id(), d.status().dbName(),
                        labels(d.labels()), c == null ? "-" : c.notAfter().toString(), text(d.lastSeenAt()),
                        models.isEmpty() ? "-" : String.join(",", models),
                        h.has("lastHeartbeat") ? h.get("lastHeartbeat").asText() : "-",
                        h.has("health") ? h.get("health").asText() : "no heartbeat",
                        DeviceDrift.text(drift.getOrDefault(d.id(), List.of())));
            }
            return 0;
        }

        /** Each device's latest heartbeat and health (siteward.fleet.stale-after), or nothing when unavailable. */
        private com.fasterxml.jackson.databind.JsonNode fleetHealth() {
            try (RolloutOperations ops = RolloutOperations.open(dataDir)) {
                return ops.fleetHealth();
            } catch (Exception e) {
                return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one device.")
    static final class Show extends Base {
        @Parameters(paramLabel = "ID")
        String id;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                print(ops.showDevice(id(id)), json);
                return 0;
            }
        }
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = "Pre-register a device for factory-certificate (IDevID) enrollment.")
    static final class Register extends Base {
        @Parameters(paramLabel = "ID")
        String id;
        @Option(names = "--idevid-serial", paramLabel = "HEX",
                description = "Serial of the factory certificate allowed to enroll as this device.")
        String serial;
        @Option(names = "--labels", paramLabel = "k=v,...", description = "Labels to set.")
        String labels;

        @Override
        public Integer call() throws Exception {
            Map<String, String> l = Labels.parse(labels);
            if (serial != null) {
                dev.siteward.pki.Certificates.parseSerial(serial);
            }
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                print(ops.register(id(id), serial, l), false);
                return 0;
            }
        }
    }

    @Command(name = "label", mixinStandardHelpOptions = true,
            description = "Set labels (k=v) on a device; k= removes a label.")
    static final class Label extends Base {
        @Parameters(index = "0", paramLabel = "ID")
        String id;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "k=v")
        List<String> pairs;

        @Override
        public Integer call() throws Exception {
            Map<String, String> changes = new LinkedHashMap<>();
            for (String p : pairs) {
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    throw CliException.badInput("invalid label '" + p + "': expected key=value");
                }
                changes.put(p.substring(0, eq), p.substring(eq + 1));
            }
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                print(ops.label(id(id), changes), false);
                return 0;
            }
        }
    }

    @Command(name = "suspend", mixinStandardHelpOptions = true,
            description = "Suspend a device: its requests are refused and its connections closed until resumed.")
    static final class Suspend extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                out().println("suspended " + ops.suspend(id(id)).id());
                return 0;
            }
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Lift a device's suspension.")
    static final class Resume extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                out().println("resumed " + ops.resume(id(id)).id());
                return 0;
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke every current certificate of a device and close its connections at once.")
    static final class Revoke extends Base {
        @Parameters(paramLabel = "ID")
        String id;
        @Option(names = "--reason", defaultValue = "unspecified", paramLabel = "REASON",
                description = "RFC 5280 reason name, e.g. keyCompromise. Default: ${DEFAULT-VALUE}.")
        String reason;

        @Override
        public Integer call() throws Exception {
            dev.siteward.pki.RevocationReason.parse(reason);
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                List<Map<String, String>> revoked = ops.revokeDevice(id(id), reason);
                for (Map<String, String> r : revoked) {
                    out().println("revoked " + r.get("serial") + " (device " + r.get("name") + ", " + r.get("reason")
                            + ")");
                }
                if (revoked.isEmpty()) {
                    out().println("revoked device " + id + " (it had no current certificate)");
                }
                return 0;
            }
        }
    }
}
