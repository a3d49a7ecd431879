package dev.siteward.gateway.cli;

import dev.siteward.gateway.demo.SiteDemo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code siteward demo}: runs the whole site on one machine ({@link SiteDemo}). */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole site on one machine: the gateway, a signed demo model released to class "
                + "vibration, five simulated sensors that enroll with the device SDK and stream readings over MQTT "
                + "(one drifting, one with anomaly bursts that request line.stop through the policy engine, one "
                + "revoked half-way and cut off), printing what happens, then stopping cleanly.",
                "Needs the device SDK jar (device-sdk/target/siteward-device.jar beside the repository's gateway, "
                        + "or --device-jar); ./siteward demo builds it."})
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--duration", defaultValue = "60s", paramLabel = "DURATION",
            description = "How long the sensors stream, at least 20s (setup and shutdown come on top). "
                    + "Default: ${DEFAULT-VALUE}.")
    String duration;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Keep everything in DIR (new or empty; the gateway's data dir is DIR/gateway) and leave it "
                    + "there afterwards. Default: a temporary folder, deleted at the end.")
    Path dataDir;

    @Option(names = "--device-jar", paramLabel = "JAR",
            description = "The device SDK's siteward-device.jar (default: found beside this jar or in the "
                    + "repository's device-sdk/target).")
    Path deviceJar;

    @Override
    public Integer call() throws Exception {
        Duration d = DurationText.parse(duration);
        if (d.compareTo(Duration.ofSeconds(20)) < 0) {
            throw CliException.badInput("--duration must be at least 20s (drift needs 150 readings of a sensor)");
        }
        boolean keep = dataDir != null;
        if (keep && Files.exists(dataDir) && (!Files.isDirectory(dataDir) || hasEntries(dataDir))) {
            throw CliException.badInput("--data-dir " + dataDir + " must be a new or empty folder");
        }
        Path self = ownJar();
        Path device = deviceJar != null ? deviceJar : findDeviceJar(self);
        if (device == null || !Files.isRegularFile(device)) {
            throw CliException.badInput("the device SDK jar was not found" + (deviceJar != null ? " at " + deviceJar
                    : " beside " + self + " or in device-sdk/target") + ": build it (./siteward demo does) or give "
                    + "--device-jar");
        }
        Path work = keep ? dataDir.toAbsolutePath() : Files.createTempDirectory("siteward-demo-");
        String java = ProcessHandle.current().info().command().orElse("java");
        PrintWriter out = spec.commandLine().getOut();
        SiteDemo demo = new SiteDemo(new SiteDemo.Settings(d, work, keep, self, device.toAbsolutePath(), java),
                args -> {
                    StringWriter o = new StringWriter();
                    StringWriter e = new StringWriter();
                    int code = SitewardCommand.execute(args, new PrintWriter(o, true), new PrintWriter(e, true));
                    return new SiteDemo.Result(code, o.toString(), e.toString());
                }, out);
        try {
            return demo.run();
        } catch (IllegalStateException e) {
            throw new CliException(CliException.INTERNAL, "demo failed: " + e.getMessage(), e);
        }
    }

    private static boolean hasEntries(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    /** The jar this command runs from (the demo starts the gateway from it). */
    static Path ownJar() {
        try {
            Path p = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
                return p;
            }
        } catch (java.net.URISyntaxException | SecurityException | NullPointerException ignored) {
            // not run from a jar
        }
        throw CliException.badInput("siteward demo runs from the gateway jar (./siteward demo or java -jar "
                + "siteward-gateway.jar demo)");
    }

    /** siteward-device.jar beside the gateway jar, or in the repository's device-sdk/target. */
    static Path findDeviceJar(Path gatewayJar) {
        Path dir = gatewayJar.toAbsolutePath().getParent();
        for (Path p : List.of(dir.resolve("siteward-device.jar"),
                dir.resolve("../../device-sdk/target/siteward-device.jar").normalize())) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }
}
