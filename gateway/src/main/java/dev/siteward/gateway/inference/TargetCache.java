package dev.siteward.gateway.inference;

import dev.siteward.gateway.models.ReleaseTargets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The release targets of each device, read at most {@code ttl} ago. A reading whose device has no entry, or one
 * older than {@code ttl}, reads its targets on the spot (on the caller's thread, as before). To keep that read off
 * the MQTT callback thread, a background thread re-reads, in bulk (one transaction per {@value #CHUNK} devices),
 * every entry once it is {@code ttl - lead} old, so the entry of a device that sent a reading in the last
 * {@value #IDLE_TTLS} × {@code ttl} is replaced before it expires — also when the device reports less often than
 * {@code ttl}, or paused (a network outage, a quiet line): otherwise its next reading, and after a pause every
 * device's at once, would read on the callback thread, one after another, while the broker queues what arrives
 * behind them. Entries of devices not seen for that long are dropped. A refreshed entry is never older than one
 * read on the spot would be: its time is taken before its read starts, and the staleness bound ({@code ttl}) is
 * unchanged.
 */
final class TargetCache implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TargetCache.class);
    /** Devices read in one transaction by the background refresh. */
    static final int CHUNK = 100;
    /** Idle entries are dropped after this many TTLs without a reading. */
    static final int IDLE_TTLS = 12;

    private static final class Entry {
        final List<ReleaseTargets.Target> targets;
        final Instant loaded;
        volatile Instant used;

        Entry(List<ReleaseTargets.Target> targets, Instant loaded, Instant used) {
            this.targets = targets;
            this.loaded = loaded;
            this.used = used;
        }
    }

    private final InferenceService.Targets source;
    private final Clock clock;
    private final Duration ttl;
    private final Duration lead;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final ScheduledExecutorService refresher;

    /**
     * @param lead how long before expiry the background refresh re-reads a used entry; with a zero
     *             {@code period} there is no background refresh (every expired entry is read on the spot)
     */
    TargetCache(InferenceService.Targets source, Clock clock, Duration ttl, Duration lead, Duration period) {
        this.source = source;
        this.clock = clock;
        this.ttl = ttl;
        this.lead = lead;
        if (period.isZero()) {
            this.refresher = null;
        } else {
            this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "inference-targets");
                t.setDaemon(true);
                return t;
            });
            refresher.scheduleWithFixedDelay(this::refreshSafely, period.toMillis(), period.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** The device's targets, read now when there is no entry or it is older than the TTL. */
    List<ReleaseTargets.Target> get(String deviceId) throws Exception {
        Instant now = clock.instant();
        Entry e = entries.get(deviceId);
        if (e == null || now.isAfter(e.loaded.plus(ttl))) {
            e = put(deviceId, new Entry(source.forDevice(deviceId), now, now));
        }
        e.used = now;
        return e.targets;
    }

    /** Keeps the fresher of the present entry and {@code e}; returns the one kept. */
    private Entry put(String deviceId, Entry e) {
        return entries.merge(deviceId, e, (old, fresh) -> {
            if (old.loaded.isAfter(fresh.loaded)) {
                return old;
            }
            if (old.used.isAfter(fresh.used)) {
                fresh.used = old.used;
            }
            return fresh;
        });
    }

    private void refreshSafely() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.warn("inference: background refresh of release targets failed: {}", e.toString());
        }
    }

    /** One pass of the background refresh; returns how many entries it re-read. */
    int refresh() {
        Instant now = clock.instant();
        Instant due = now.minus(ttl).plus(lead);
        Instant idle = now.minus(ttl.multipliedBy(IDLE_TTLS));
        List<String> stale = new ArrayList<>();
        for (Map.Entry<String, Entry> me : entries.entrySet()) {
            Entry e = me.getValue();
            if (e.used.isBefore(idle)) {
                entries.remove(me.getKey(), e);
            } else if (!e.loaded.isAfter(due)) {
                stale.add(me.getKey());
            }
        }
        int refreshed = 0;
        for (int from = 0; from < stale.size(); from += CHUNK) {
            List<String> chunk = stale.subList(from, Math.min(stale.size(), from + CHUNK));
            Instant loaded = clock.instant();
            Map<String, List<ReleaseTargets.Target>> read;
            try {
                read = source.forDevices(chunk);
            } catch (Exception e) {
                // the entries stay; an expired one is read on the spot, which reports the failure to its reading
                LOG.debug("inference: cannot refresh the release targets of {} devices: {}", chunk.size(),
                        e.toString());
                continue;
            }
            for (Map.Entry<String, List<ReleaseTargets.Target>> r : read.entrySet()) {
                // a re-read is not a use: the entry keeps its device's last reading, so idle ones still go
                put(r.getKey(), new Entry(r.getValue(), loaded, Instant.MIN));
                refreshed++;
            }
        }
        return refreshed;
    }

    @Override
    public void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }
}
