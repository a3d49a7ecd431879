package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.pki.testkit.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TargetCacheTest {

    private static final Duration TTL = Duration.ofSeconds(5);
    private static final Duration LEAD = Duration.ofSeconds(2);

    private final MutableClock clock = MutableClock.atDefaultStart();
    /** The released version; tests change it as a release would. */
    private final AtomicLong version = new AtomicLong(1);
    private final List<String> single = new ArrayList<>();
    private final List<List<String>> bulk = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean failing;

    private final InferenceService.Targets source = new InferenceService.Targets() {
        @Override
        public List<ReleaseTargets.Target> forDevice(String deviceId) throws Exception {
            if (failing) {
                throw new IllegalStateException("store down");
            }
            single.add(deviceId);
            return List.of(target());
        }

        @Override
        public Map<String, List<ReleaseTargets.Target>> forDevices(List<String> deviceIds) throws Exception {
            if (failing) {
                throw new IllegalStateException("store down");
            }
            bulk.add(List.copyOf(deviceIds));
            Map<String, List<ReleaseTargets.Target>> out = new LinkedHashMap<>();
            deviceIds.forEach(id -> out.put(id, List.of(target())));
            return out;
        }
    };

    private TargetCache cache = new TargetCache(source, clock, TTL, LEAD, Duration.ZERO);

    private ReleaseTargets.Target target() {
        return new ReleaseTargets.Target("demo/vibration", version.get(), "stable", null, "x", 0, List.of(),
                List.of());
    }

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void aDeviceIsReadOnceAndServedFromTheCacheWithinTheTtl() throws Exception {
        assertEquals(1, cache.get("s1").get(0).version());
        version.set(2);
        clock.advance(TTL);
        assertEquals(1, cache.get("s1").get(0).version());
        assertEquals(List.of("s1"), single);
    }

    @Test
    void anEntryOlderThanTheTtlIsReadOnTheSpotSoANewReleaseIsSeenWithinTheTtl() throws Exception {
        cache.get("s1");
        version.set(2);
        clock.advance(TTL.plusMillis(1));
        assertEquals(2, cache.get("s1").get(0).version());
        assertEquals(List.of("s1", "s1"), single);
    }

    @Test
    void theBackgroundRefreshReReadsBusyDevicesInBulkBeforeTheirEntriesExpire() throws Exception {
        cache.get("s1");
        cache.get("s2");
        clock.advance(Duration.ofSeconds(1));
        cache.get("s1");
        cache.get("s2");
        assertEquals(0, cache.refresh(), "not due yet");
        clock.advance(Duration.ofSeconds(2));
        version.set(2);
        assertEquals(2, cache.refresh());
        assertEquals(List.of(List.of("s1", "s2")), sortedBulk());
        clock.advance(Duration.ofSeconds(4)); // 7 s after the first read, 4 s after the refresh
        assertEquals(2, cache.get("s1").get(0).version());
        assertEquals(2, cache.get("s2").get(0).version());
        assertEquals(List.of("s1", "s2"), single, "no read on the reading's thread after the refresh");
    }

    @Test
    void aDeviceThatReportsLessOftenThanTheTtlIsKeptFreshUntilItHasBeenIdleForTheIdleHorizon() throws Exception {
        cache.get("s1"); // a sensor that reports every 8 s
        clock.advance(Duration.ofSeconds(4));
        version.set(2);
        assertEquals(1, cache.refresh(), "re-read although it sent nothing since");
        clock.advance(Duration.ofSeconds(4));
        assertEquals(2, cache.get("s1").get(0).version());
        assertEquals(List.of("s1"), single, "its next reading finds a fresh entry, no read on the reading's thread");
        // then silent: kept fresh up to the idle horizon, dropped after it, and read on the spot when it is back
        Duration silent = Duration.ZERO;
        int refreshed = 0;
        while (silent.compareTo(TTL.multipliedBy(TargetCache.IDLE_TTLS + 2)) < 0) {
            clock.advance(Duration.ofSeconds(3));
            silent = silent.plusSeconds(3);
            refreshed += cache.refresh();
        }
        assertEquals(TargetCache.IDLE_TTLS * 5 / 3, refreshed, "one re-read every 3 s for the idle horizon");
        cache.get("s1");
        assertEquals(List.of("s1", "s1"), single);
    }

    @Test
    void aFailedBackgroundRefreshKeepsTheEntriesAndAnExpiredOneFailsOnTheSpot() throws Exception {
        cache.get("s1");
        clock.advance(Duration.ofSeconds(1));
        cache.get("s1");
        clock.advance(Duration.ofSeconds(3));
        failing = true;
        assertEquals(0, cache.refresh());
        assertEquals(1, cache.get("s1").get(0).version(), "still within the TTL");
        clock.advance(Duration.ofSeconds(2));
        assertThrows(IllegalStateException.class, () -> cache.get("s1"));
    }

    @Test
    void theBackgroundThreadRefreshesOnItsOwn() throws Exception {
        cache.close();
        MutableClock real = MutableClock.atSystemTime();
        cache = new TargetCache(source, real, TTL, LEAD, Duration.ofMillis(20));
        cache.get("s1");
        real.advance(Duration.ofSeconds(1));
        cache.get("s1");
        real.advance(Duration.ofSeconds(3));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (sortedBulk().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5); // waits for the refresher thread, not for time to pass
        }
        assertEquals(List.of(List.of("s1")), sortedBulk());
    }

    private List<List<String>> sortedBulk() {
        List<List<String>> out = new ArrayList<>();
        for (List<String> b : new ArrayList<>(bulk)) {
            out.add(b.stream().sorted().toList());
        }
        return out;
    }
}
