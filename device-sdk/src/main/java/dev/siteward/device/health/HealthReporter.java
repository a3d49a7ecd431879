package dev.siteward.device.health;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Sends heartbeats to the gateway and keeps them on disk while it cannot: every report is first written to the
 * queue folder (atomic write: temporary file, fsync, rename), then the queue is sent oldest first; a report leaves
 * the queue only once the gateway accepted it. The queue is bounded ({@code maxQueued}, oldest dropped first) and
 * reports older than 30 days are dropped (the gateway refuses them), so a device offline for long keeps its most
 * recent state and the rollout counts it when the device is back.
 *
 * <p>One reporter per device directory at a time (the CLI and the application should not both run one).
 */
public final class HealthReporter {

    /** Default bound of the queue. */
    public static final int DEFAULT_MAX_QUEUED = 1000;
    static final Duration MAX_AGE = Duration.ofDays(30);
    private static final Pattern ENTRY = Pattern.compile("[0-9]{19}\\.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path queue;
    private final HeartbeatSender sender;
    private final Clock clock;
    private final int maxQueued;

    /**
     * @param deviceDir the device directory; the queue is {@code <dir>/health-queue}
     */
    public HealthReporter(Path deviceDir, HeartbeatSender sender, Clock clock, int maxQueued) {
        if (maxQueued < 1) {
            throw new IllegalArgumentException("the queue must hold at least one report");
        }
        this.queue = deviceDir.resolve("health-queue");
        this.sender = sender;
        this.clock = clock;
        this.maxQueued = maxQueued;
    }

    /** What a {@link #report} or {@link #flush} achieved. */
    public record Outcome(int sent, int queued, DeviceException lastFailure) {
        public boolean delivered() {
            return queued == 0;
        }
    }

    /** Queues the report on disk, then sends everything queued. */
    public synchronized Outcome report(HealthReport report) throws DeviceException {
        try {
            SecureFiles.createPrivateDirectory(queue);
            long seq = Math.max(clock.millis() * 1000, last() + 1);
            SecureFiles.writeAtomically(queue.resolve(String.format("%019d.json", seq)), JSON.writeValueAsBytes(
                    body(report)), false);
            List<Path> entries = entries();
            for (int i = 0; i < entries.size() - maxQueued; i++) {
                Files.deleteIfExists(entries.get(i));
            }
        } catch (IOException e) {
            throw new DeviceException(DeviceException.Reason.STORAGE, "cannot queue the heartbeat in " + queue, e);
        }
        return flush();
    }

    /** Sends the queued reports, oldest first, until the queue is empty or the gateway cannot be reached. */
    public synchronized Outcome flush() throws DeviceException {
        int sent = 0;
        try {
            if (!Files.isDirectory(queue)) {
                return new Outcome(0, 0, null);
            }
            List<Path> entries = entries();
            for (int i = 0; i < entries.size(); i++) {
                Path p = entries.get(i);
                long micros = Long.parseLong(p.getFileName().toString().substring(0, 19));
                if (clock.millis() - micros / 1000 > MAX_AGE.toMillis()) {
                    Files.deleteIfExists(p);
                    continue;
                }
                try {
                    sender.send(Files.readAllBytes(p));
                } catch (DeviceException e) {
                    return new Outcome(sent, entries.size() - i, e);
                }
                Files.deleteIfExists(p);
                sent++;
            }
            SecureFiles.fsyncDirectory(queue);
            return new Outcome(sent, 0, null);
        } catch (IOException e) {
            throw new DeviceException(DeviceException.Reason.STORAGE, "cannot read the heartbeat queue " + queue, e);
        }
    }

    /** How many reports wait in the queue. */
    public synchronized int queued() throws DeviceException {
        try {
            return Files.isDirectory(queue) ? entries().size() : 0;
        } catch (IOException e) {
            throw new DeviceException(DeviceException.Reason.STORAGE, "cannot read the heartbeat queue " + queue, e);
        }
    }

    private long last() throws IOException {
        List<Path> e = entries();
        return e.isEmpty() ? 0 : Long.parseLong(e.get(e.size() - 1).getFileName().toString().substring(0, 19));
    }

    private List<Path> entries() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(queue)) {
            s.filter(p -> ENTRY.matcher(p.getFileName().toString()).matches()).sorted().forEach(out::add);
        }
        return out;
    }

    static ObjectNode body(HealthReport r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("sentAt", r.sentAt().toString());
        n.put("uptimeSeconds", r.uptimeSeconds());
        n.put("inferences", r.inferences());
        n.put("inferenceErrors", r.inferenceErrors());
        ObjectNode l = n.putObject("latencyMs");
        l.put("p50", r.p50());
        l.put("p95", r.p95());
        l.put("p99", r.p99());
        ArrayNode models = n.putArray("models");
        r.models().forEach((name, version) -> models.addObject().put("name", name).put("version", version));
        return n;
    }
}
