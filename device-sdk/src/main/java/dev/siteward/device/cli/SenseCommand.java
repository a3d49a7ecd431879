package dev.siteward.device.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.sensors.SensorClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code siteward-device sense}: sends readings read from stdin (one per line: numbers separated by commas or
 * spaces, or a JSON array) to the gateway over MQTT 5 with the device certificate, through the SDK's on-disk queue,
 * and prints each answer as one JSON line ({@code {"topic": "inference"|"errors", ...}}). At the end of input it
 * waits up to {@code --wait} for the answers. Exit 0 when every reading was answered, 1 when some are still queued
 * (they are sent again by the next run), 2 for a line that is not a reading.
 */
@Command(name = "sense", mixinStandardHelpOptions = true,
        description = "Send readings (stdin, one per line) over MQTT 5 and print the gateway's answers.")
final class SenseCommand implements Callable<Integer> {

    @Mixin
    DirOptions options;

    @Mixin
    ClockOptions clockOptions;

    @Option(names = "--mqtt-url", paramLabel = "URL", required = true,
            description = "Broker, e.g. mqtts://gateway.example:8883 (mqttUrl in /.well-known/siteward).")
    String url;

    @Option(names = "--queue-dir", paramLabel = "DIR",
            description = "On-disk queue of unanswered readings (default <dir>/sensor-queue).")
    Path queueDir;

    @Option(names = "--max-queued", paramLabel = "N", defaultValue = "10000",
            description = "Most readings kept while unanswered; the oldest are dropped beyond it (default 10000).")
    int maxQueued;

    @Option(names = "--first-seq", paramLabel = "N", defaultValue = "-1",
            description = "seq of the first reading (default: the current time in milliseconds).")
    long firstSeq;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "15",
            description = "How long to wait for answers after the last reading (default 15).")
    int waitSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (maxQueued < 1 || waitSeconds < 0) {
            spec.commandLine().getErr().println("siteward-device: --max-queued must be >= 1 and --wait >= 0");
            return DeviceCommand.BAD_INPUT;
        }
        String uri = url.replaceFirst("^mqtts://", "ssl://");
        if (!uri.startsWith("ssl://")) {
            spec.commandLine().getErr().println("siteward-device: --mqtt-url must be mqtts://HOST:PORT");
            return DeviceCommand.BAD_INPUT;
        }
        Clock clock = clockOptions.synced(options.directory());
        DeviceIdentity id = DeviceIdentity.load(options.directory(), options.pinFile, clock);
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper json = new ObjectMapper();
        Set<Long> pending = ConcurrentHashMap.newKeySet();
        Path queue = queueDir != null ? queueDir : options.dir.resolve("sensor-queue");
        try (SensorClient client = new SensorClient(id, uri, queue, maxQueued, Duration.ofSeconds(5), clock,
                (topic, body) -> {
                    if (!("errors".equals(topic) && "shed".equals(body.path("code").asText()))) {
                        pending.remove(body.path("seq").asLong());
                    }
                    synchronized (out) {
                        out.println("{\"topic\":\"" + topic + "\"," + body.toString().substring(1));
                        out.flush();
                    }
                })) {
            pending.addAll(client.queuedSeqs());
            client.start();
            long seq = firstSeq >= 0 ? firstSeq : clock.millis();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                double[] features;
                try {
                    features = parse(json, line.strip());
                } catch (IllegalArgumentException e) {
                    spec.commandLine().getErr().println("siteward-device: line " + lineNo + ": " + e.getMessage());
                    return DeviceCommand.BAD_INPUT;
                }
                pending.add(seq);
                client.send(seq++, features);
            }
            long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
            while (!pending.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (client.dropped() > 0) {
                spec.commandLine().getErr().println("siteward-device: " + client.dropped()
                        + " readings dropped (queue full)");
            }
            if (!pending.isEmpty()) {
                spec.commandLine().getErr().println("siteward-device: " + pending.size()
                        + " readings not answered yet; they stay queued in " + queue);
                return DeviceCommand.REFUSED;
            }
            return DeviceCommand.OK;
        }
    }

    static double[] parse(ObjectMapper json, String line) {
        try {
            if (line.startsWith("[")) {
                JsonNode a = json.readTree(line);
                double[] out = new double[a.size()];
                for (int i = 0; i < out.length; i++) {
                    if (!a.get(i).isNumber()) {
                        throw new IllegalArgumentException("value " + (i + 1) + " is not a number");
                    }
                    out[i] = a.get(i).asDouble();
                }
                return out;
            }
            String[] parts = line.split("[,\\s]+");
            double[] out = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                out[i] = Double.parseDouble(parts[i]);
            }
            return out;
        } catch (NumberFormatException | java.io.IOException e) {
            throw new IllegalArgumentException("not a list of numbers");
        }
    }
}
