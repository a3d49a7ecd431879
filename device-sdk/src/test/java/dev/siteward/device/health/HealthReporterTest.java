package dev.siteward.device.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.device.DeviceException;
import dev.siteward.pki.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HealthReporterTest {

    @TempDir
    Path dir;

    final MutableClock clock = MutableClock.atDefaultStart();
    final List<JsonNode> delivered = new ArrayList<>();
    boolean online = true;

    HeartbeatSender sender() {
        return json -> {
            if (!online) {
                throw new DeviceException(DeviceException.Reason.UNREACHABLE, "gateway down");
            }
            try {
                delivered.add(new ObjectMapper().readTree(json));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    HealthReport report(long inferences) {
        return new HealthReport(clock.instant(), 60, inferences, 0, 1.5, 3.0, 4.0, Map.of("vision/counter", 2L));
    }

    @Test
    void reportsQueuedWhileOfflineAreSentOldestFirstWhenTheGatewayIsBack() throws Exception {
        HealthReporter r = new HealthReporter(dir, sender(), clock, 10);
        online = false;
        for (int i = 1; i <= 3; i++) {
            HealthReporter.Outcome o = r.report(report(i));
            assertFalse(o.delivered());
            assertTrue(o.lastFailure().retryable());
            clock.advance(Duration.ofMinutes(1));
        }
        assertEquals(3, r.queued());
        // a restarted reporter finds the queue on disk
        HealthReporter again = new HealthReporter(dir, sender(), clock, 10);
        online = true;
        HealthReporter.Outcome o = again.report(report(4));
        assertTrue(o.delivered());
        assertEquals(4, o.sent());
        assertEquals(List.of(1L, 2L, 3L, 4L), delivered.stream().map(n -> n.get("inferences").asLong()).toList());
        assertEquals(2, delivered.get(0).at("/models/0/version").asLong());
        assertEquals("vision/counter", delivered.get(0).at("/models/0/name").asText());
        assertEquals(3.0, delivered.get(0).at("/latencyMs/p95").asDouble());
        assertEquals(0, again.queued());
        try (var s = Files.list(dir.resolve("health-queue"))) {
            assertEquals(0, s.count(), "no temporary files are left behind");
        }
    }

    @Test
    void theQueueIsBoundedAndDropsTheOldestReports() throws Exception {
        HealthReporter r = new HealthReporter(dir, sender(), clock, 3);
        online = false;
        for (int i = 1; i <= 5; i++) {
            r.report(report(i));
            clock.advance(Duration.ofSeconds(10));
        }
        assertEquals(3, r.queued());
        online = true;
        r.flush();
        assertEquals(List.of(3L, 4L, 5L), delivered.stream().map(n -> n.get("inferences").asLong()).toList());
    }

    @Test
    void reportsOlderThanThirtyDaysAreDroppedInsteadOfSent() throws Exception {
        HealthReporter r = new HealthReporter(dir, sender(), clock, 10);
        online = false;
        r.report(report(1));
        clock.advance(Duration.ofDays(31));
        online = true;
        HealthReporter.Outcome o = r.report(report(2));
        assertEquals(1, o.sent());
        assertEquals(2, delivered.get(0).get("inferences").asLong());
    }

    @Test
    void invalidFiguresAreRefusedBeforeAnythingIsQueued() {
        assertThrows(IllegalArgumentException.class, () -> new HealthReport(clock.instant(), 1, 1, 2, null, null,
                null, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new HealthReport(clock.instant(), -1, 1, 0, null, null,
                null, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new HealthReport(clock.instant(), 1, 1, 0, -1.0, null,
                null, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new HealthReport(clock.instant(), 1, 1, 0, null, null,
                null, Map.of("not a name", 1L)));
        assertThrows(IllegalArgumentException.class, () -> new HealthReporter(dir, sender(), clock, 0));
    }
}
