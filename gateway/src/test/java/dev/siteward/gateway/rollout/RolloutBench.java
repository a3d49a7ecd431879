package dev.siteward.gateway.rollout;

import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.devices.Labels;
import dev.siteward.gateway.models.ReleaseTargets;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.ca.JournalCertificateRegistry;
import dev.siteward.pki.ca.RegistryEntry;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rollout bookkeeping for a fleet of simulated devices (docs/benchmarks.md, "Rollouts"): how many heartbeats and
 * install reports per second the gateway's stores absorb, next to a plain INSERT of a row of the same shape (one row
 * per transaction, same database, same run); and how long judging a stage of a rollout over the whole fleet takes
 * (one {@link RolloutService#tick()} that moves a stage), next to reading the same rows with plain queries; and what
 * {@link RolloutTargets#choose} costs per device metadata request.
 *
 * <p>{@code mvn -B -q -pl gateway -am -Pbench-rollouts -DskipTests test -Dbench.seconds=5 -Dbench.devices=10000}
 */
public final class RolloutBench {

    static final String MODEL = "vision/counter";

    public static void main(String[] args) throws Exception {
        int devices = Integer.getInteger("bench.devices", 10_000);
        int seconds = Integer.getInteger("bench.seconds", 5);
        Path dir = Files.createTempDirectory("rollout-bench");
        MutableTime clock = new MutableTime(Instant.parse("2026-11-27T00:00:00Z"));
        try (GatewayStore store = GatewayStore.openEmbedded(dir)) {
            setUp(store, devices, clock.instant());
            HealthCriteria criteria = HealthCriteria.DEFAULTS;
            FleetHealth fleet = new FleetHealth(store, clock, criteria);
            RolloutService rollouts = new RolloutService(store, AuditTrail.NONE, clock, criteria, (m, v) -> false);
            System.out.printf(Locale.ROOT, "fleet: %d devices, H2 embedded at %s%n", devices, dir);

            double plain = rate(seconds, i -> {
                store.inTransaction(c -> {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_plain (device_id, sent_at, "
                            + "n1, n2, n3) VALUES (?, ?, ?, ?, ?)")) {
                        ps.setString(1, id(i % devices));
                        ps.setTimestamp(2, Timestamp.from(clock.instant()));
                        ps.setLong(3, i);
                        ps.setLong(4, i);
                        ps.setLong(5, i);
                        ps.executeUpdate();
                    }
                    return null;
                });
            });
            Rollout r = rollouts.start(new RolloutService.StartRequest(MODEL, MODEL, 2, "stable",
                    "1%,2%,5%,10%,20%,30%,40%,50%,60%,70%,80%,90%,100%", Duration.ZERO, 0.05, false));
            double heartbeats = rate(seconds, i -> fleet.record(id(i % devices), new FleetHealth.Heartbeat(
                    clock.instant(), 60, 100, 0, new FleetHealth.Latency(2.0, 4.0, 6.0),
                    List.of(new FleetHealth.RunningModel(MODEL, 2)))));
            double reports = rate(seconds, i -> store.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_reports (device_id, model_name, "
                        + "version, result, received_at) VALUES (?, ?, ?, 'installed', ?)")) {
                    ps.setString(1, id(i % devices));
                    ps.setString(2, MODEL);
                    ps.setLong(3, 2);
                    ps.setTimestamp(4, Timestamp.from(clock.instant()));
                    ps.executeUpdate();
                }
                return null;
            }));
            System.out.printf(Locale.ROOT, "plain INSERT, 1 row/txn: %,.0f rows/s%n", plain);
            System.out.printf(Locale.ROOT, "heartbeat (FleetHealth.record): %,.0f /s (%.2fx plain)%n", heartbeats,
                    heartbeats / plain);
            System.out.printf(Locale.ROOT, "install report (model_reports INSERT as the route does): %,.0f /s "
                    + "(%.2fx plain)%n", reports, reports / plain);

            // every device sends a fresh heartbeat, so every stage is healthy and each tick moves one stage
            clock.advance(Duration.ofSeconds(1));
            for (int i = 0; i < devices; i++) {
                fleet.record(id(i), new FleetHealth.Heartbeat(clock.instant(), 60, 100, 0, null,
                        List.of(new FleetHealth.RunningModel(MODEL, 2))));
            }
            List<Double> ticks = new ArrayList<>();
            List<Double> baselines = new ArrayList<>();
            for (int s = 0; s < 12; s++) {
                clock.advance(Duration.ofSeconds(1));
                baselines.add(timeMs(() -> plainRead(store)));
                long t0 = System.nanoTime();
                List<RolloutService.Transition> t = rollouts.tick();
                ticks.add((System.nanoTime() - t0) / 1e6);
                if (t.isEmpty()) {
                    throw new IllegalStateException("tick " + s + " moved no stage");
                }
            }
            System.out.printf(Locale.ROOT, "stage transition (tick over %d devices): median %.1f ms, max %.1f ms; "
                    + "plain read of the same rows: median %.1f ms (%.1fx)%n", devices, median(ticks),
                    ticks.stream().mapToDouble(d -> d).max().orElse(0), median(baselines),
                    median(ticks) / median(baselines));
            System.out.println("final state: " + rollouts.get(r.id()).state().dbName());
            Map<String, String> labels = Map.of();
            int n = Math.min(devices, 2000);
            double chooseMs = timeMs(() -> {
                for (int i = 0; i < n; i++) {
                    int k = i;
                    store.inTransaction(c -> RolloutTargets.choose(c, id(k), labels, "stable", List.of(
                            new RolloutTargets.Release(MODEL, "stable", 1, List.of(), null))));
                }
            });
            System.out.printf(Locale.ROOT, "RolloutTargets.choose per metadata request: %.3f ms%n", chooseMs / n);

            // the inference service's background refresh: release targets of 100 devices per transaction, read one
            // device at a time (as before) and with ReleaseTargets.Reader (shared rows read once per transaction)
            List<Double> alone = new ArrayList<>();
            List<Double> shared = new ArrayList<>();
            for (int round = 0; round < 6; round++) {
                alone.add(timeMs(() -> releaseTargets(store, n, false)));
                shared.add(timeMs(() -> releaseTargets(store, n, true)));
            }
            alone.remove(0);
            shared.remove(0);
            System.out.printf(Locale.ROOT, "release targets of %d devices, 100 per transaction: one by one median "
                    + "%.1f us/device, ReleaseTargets.Reader %.1f us/device (%.1fx faster)%n", n,
                    median(alone) * 1000 / n, median(shared) * 1000 / n, median(alone) / median(shared));

            // the labels those reads need, per device: the whole device record (with its certificate, from the
            // CA's registry) as the refresh read it before, against DeviceRegistry.labels (the labels column alone)
            try (JournalCertificateRegistry certs = JournalCertificateRegistry.open(dir.resolve("issued.journal"))) {
                for (int i = 0; i < n; i++) {
                    BigInteger serial = BigInteger.valueOf(1_000_000L + i);
                    certs.record(new RegistryEntry(serial, CertificateProfile.DEVICE, id(i), null, clock.instant(),
                            clock.instant().plus(Duration.ofDays(365)), new byte[400], null, null));
                }
                DeviceRegistry registry = new DeviceRegistry(store, certs, clock);
                List<Double> records = new ArrayList<>();
                List<Double> labelsOnly = new ArrayList<>();
                for (int round = 0; round < 6; round++) {
                    records.add(timeMs(() -> deviceLabels(store, registry, n, false)));
                    labelsOnly.add(timeMs(() -> deviceLabels(store, registry, n, true)));
                }
                records.remove(0);
                labelsOnly.remove(0);
                System.out.printf(Locale.ROOT, "labels of %d devices, 100 per transaction: device records median "
                        + "%.1f us/device, DeviceRegistry.labels %.1f us/device (%.1fx faster)%n", n,
                        median(records) * 1000 / n, median(labelsOnly) * 1000 / n,
                        median(records) / median(labelsOnly));
            }
        }
    }

    static void deviceLabels(GatewayStore store, DeviceRegistry registry, int devices, boolean labelsOnly)
            throws Exception {
        for (int from = 0; from < devices; from += 100) {
            List<String> ids = new ArrayList<>();
            for (int i = from; i < Math.min(devices, from + 100); i++) {
                ids.add(id(i));
            }
            store.inTransaction(c -> {
                if (labelsOnly) {
                    if (registry.labels(c, ids).size() != ids.size()) {
                        throw new IllegalStateException("labels missing");
                    }
                } else {
                    for (String id : ids) {
                        if (registry.find(c, id).labels().isEmpty()) {
                            throw new IllegalStateException("no labels for " + id);
                        }
                    }
                }
                return null;
            });
        }
    }

    static void releaseTargets(GatewayStore store, int devices, boolean reader) throws Exception {
        for (int from = 0; from < devices; from += 100) {
            int start = from;
            store.inTransaction(c -> {
                ReleaseTargets.Reader r = new ReleaseTargets.Reader(c);
                for (int i = start; i < Math.min(devices, start + 100); i++) {
                    Map<String, String> labels = Map.of("zone", "line-" + (i % 7));
                    List<ReleaseTargets.Target> t = reader ? r.forDevice(id(i), labels)
                            : ReleaseTargets.forDevice(c, id(i), labels);
                    if (t.isEmpty()) {
                        throw new IllegalStateException("no target for " + id(i));
                    }
                }
                return null;
            });
        }
    }

    interface Op {
        void run(long i) throws Exception;
    }

    interface Block {
        void run() throws Exception;
    }

    static double rate(int seconds, Op op) throws Exception {
        long end = System.nanoTime() + 1_000_000_000L;
        long i = 0;
        while (System.nanoTime() < end) {
            op.run(i++);
        }
        long start = System.nanoTime();
        end = start + seconds * 1_000_000_000L;
        long n = 0;
        while (System.nanoTime() < end) {
            op.run(i++);
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    static double timeMs(Block b) throws Exception {
        long t0 = System.nanoTime();
        b.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    static double median(List<Double> l) {
        List<Double> s = new ArrayList<>(l);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    static void plainRead(GatewayStore store) throws Exception {
        store.inTransaction(c -> {
            long n = 0;
            for (String q : List.of("SELECT id, status, labels FROM devices", "SELECT device_id, result FROM "
                    + "model_reports WHERE model_name = 'vision/counter'", "SELECT device_id, received_at FROM "
                    + "device_health")) {
                try (PreparedStatement ps = c.prepareStatement(q); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n += rs.getString(1).length();
                    }
                }
            }
            return n;
        });
    }

    static String id(long i) {
        return String.format("dev-%05d", i);
    }

    static void setUp(GatewayStore store, int devices, Instant now) throws Exception {
        store.inTransaction(c -> {
            exec(c, "CREATE TABLE bench_plain (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                    + "device_id VARCHAR(63) NOT NULL, sent_at TIMESTAMP WITH TIME ZONE NOT NULL, n1 BIGINT, n2 BIGINT, "
                    + "n3 BIGINT)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO models (name, created_at) VALUES (?, ?)")) {
                ps.setString(1, MODEL);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.executeUpdate();
            }
            for (int v = 1; v <= 2; v++) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_versions (model_name, version, "
                        + "signature_sha256, signature_size, single_file, signed_name, root_digest, publisher, signer, "
                        + "published_at) VALUES (?, ?, ?, 1, TRUE, 'counter', ?, 'bench', 'bench', ?)")) {
                    ps.setString(1, MODEL);
                    ps.setLong(2, v);
                    ps.setString(3, "0".repeat(63) + v);
                    ps.setString(4, "0".repeat(63) + v);
                    ps.setTimestamp(5, Timestamp.from(now));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO model_releases (model_name, channel, version, "
                    + "classes, released_at) VALUES (?, 'stable', 1, '', ?)")) {
                ps.setString(1, MODEL);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO devices (id, status, labels, registered, "
                    + "created_at) VALUES (?, 'active', ?, TRUE, ?)")) {
                for (int i = 0; i < devices; i++) {
                    ps.setString(1, id(i));
                    ps.setString(2, Labels.toJson(Map.of("zone", "line-" + (i % 7))));
                    ps.setTimestamp(3, Timestamp.from(now));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    static void exec(Connection c, String sql) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.executeUpdate();
        }
    }

    /** A clock the harness moves. */
    static final class MutableTime extends Clock {
        private volatile Instant now;

        MutableTime(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
