package dev.siteward.gateway.retention;

import dev.siteward.gateway.audit.AuditKey;
import dev.siteward.gateway.audit.AuditLog;
import dev.siteward.gateway.audit.AuditSettings;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.TestDatabases;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import dev.siteward.policies.PolicyLoader;
import dev.siteward.policies.SiteConfig;
import dev.siteward.policies.retention.RetentionRules;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Retention benchmarks (docs/benchmarks.md, "Retention"): on H2 and PostgreSQL, the ingest rate of minimised JSON
 * records (requests of 100 records, and of one), then 1,000,000 expired records are purged while one writer keeps
 * ingesting single records: the purge's time, and the writer's p99 latency during it next to its p99 without a
 * purge, in the same run.
 * {@code mvn -B -q -pl gateway -am -Pbench-retention -DskipTests test [-Dbench.seconds=5 -Dbench.expired=1000000
 * -Dbench.databases=H2,POSTGRESQL]}
 */
public final class RetentionBench {

    private static final String RULES = """
            schemaVersion: 1
            rules: []
            retention:
              classes:
                sensor-readings:
                  fields: [sensor, value, operator, location]
                  maxAge: 1h
                  minimise: {drop: [location], hash: [operator]}
            """;

    private RetentionBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "5"));
        int expired = Integer.parseInt(System.getProperty("bench.expired", "1000000"));
        for (String kind : System.getProperty("bench.databases", "H2,POSTGRESQL").split(",")) {
            run(TestDatabases.Kind.valueOf(kind.strip()), seconds, expired);
        }
    }

    private static void run(TestDatabases.Kind kind, double seconds, int expired) throws Exception {
        Path dir = Files.createTempDirectory("retention-bench");
        Path data = dir.resolve("data");
        MutableClock clock = MutableClock.atSystemTime();
        Path policy = Files.createDirectories(dir.resolve("policy"));
        Files.writeString(policy.resolve("r.yaml"), RULES);
        RetentionRules rules = PolicyLoader.load(policy, SiteConfig.DEFAULTS).retention();
        try (TestPki pki = TestPki.create(data, clock)) {
            GatewayStore store;
            try {
                store = TestDatabases.open(kind, data);
            } catch (Exception | AssertionError e) {
                System.out.println(kind + ": skipped (" + e.getMessage() + ")");
                return;
            }
            try (AuditLog audit = new AuditLog(store, data, clock, AuditSettings.defaults(),
                    () -> AuditKey.ensure(data, pki.ca(), clock), pki.root())) {
                DataRecords ingest = new DataRecords(store, () -> rules, MinimisationKey.ensure(data), clock,
                        RetentionSettings.defaults());
                String one = "{\"sensor\":\"t1\",\"value\":21.5,\"operator\":\"alice\",\"location\":\"52.1,13.4\"}";
                StringBuilder b = new StringBuilder("[");
                for (int i = 0; i < 100; i++) {
                    b.append(i == 0 ? "" : ",").append(one);
                }
                byte[] hundred = b.append("]").toString().getBytes(StandardCharsets.UTF_8);
                byte[] single = one.getBytes(StandardCharsets.UTF_8);
                timed(ingest, hundred, 1.0);
                double batchRate = timed(ingest, hundred, seconds) * 100;
                double singleRate = timed(ingest, single, seconds);
                fill(store, expired, clock.instant().minus(Duration.ofHours(2)));
                List<Long> base = latencies(ingest, single, seconds, null);
                RetentionPurge purge = new RetentionPurge(store, () -> rules, Map::of, audit, Optional::empty, clock,
                        RetentionSettings.DEFAULT_PURGE_BATCH);
                long t0 = System.nanoTime();
                CompletableFuture<RetentionPurge.Result> running = CompletableFuture.supplyAsync(() -> {
                    try {
                        return purge.run();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                List<Long> during = latencies(ingest, single, Double.MAX_VALUE, running);
                RetentionPurge.Result r = running.join();
                double purgeSeconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "%s: ingest %.0f records/s (requests of 100), %.0f records/s "
                                + "(requests of 1); purge of %,d expired records: %.1f s (%.0f records/s); "
                                + "single-record ingest p99 %.2f ms without a purge (%d samples), %.2f ms during it "
                                + "(%d samples, %.2fx)%n", kind, batchRate, singleRate, r.deleted(), purgeSeconds,
                        r.deleted() / purgeSeconds, p99(base), base.size(), p99(during), during.size(),
                        p99(during) / p99(base));
            } finally {
                store.close();
                TestDatabases.drop(store);
            }
        }
    }

    /** Ingests {@code body} repeatedly for {@code seconds}; returns requests per second. */
    private static double timed(DataRecords ingest, byte[] body, double seconds) throws Exception {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long n = 0;
        long t0 = System.nanoTime();
        while (System.nanoTime() < end) {
            ingest.ingestRecords("sensor-readings", "bench-1", body);
            n++;
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    /** Latencies (ns) of single-record ingests for {@code seconds} or until {@code until} completes. */
    private static List<Long> latencies(DataRecords ingest, byte[] body, double seconds, CompletableFuture<?> until)
            throws Exception {
        List<Long> out = new ArrayList<>();
        long end = seconds == Double.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end && (until == null || !until.isDone())) {
            long t = System.nanoTime();
            ingest.ingestRecords("sensor-readings", "bench-2", body);
            out.add(System.nanoTime() - t);
        }
        return out;
    }

    private static double p99(List<Long> ns) {
        List<Long> s = new ArrayList<>(ns);
        Collections.sort(s);
        return s.isEmpty() ? Double.NaN : s.get((int) Math.min(s.size() - 1, Math.ceil(s.size() * 0.99) - 1)) / 1e6;
    }

    /** Writes {@code n} records received at {@code at}, 10,000 per transaction, straight into the table. */
    private static void fill(GatewayStore store, int n, Instant at) throws Exception {
        byte[] body = "{\"sensor\":\"t1\",\"value\":21.5,\"operator\":\"hmac-sha256:00\"}".getBytes(
                StandardCharsets.UTF_8);
        OffsetDateTime t = OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
        try (Connection c = store.connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO data_records (id, data_class, device, "
                    + "recorded_at, size_bytes, content_type, body) VALUES (?, 'sensor-readings', ?, ?, ?, "
                    + "'application/json', ?)")) {
                for (int i = 0; i < n; i++) {
                    ps.setString(1, DataRecords.newId(at.plusNanos(i * 1000L)));
                    ps.setString(2, "old-" + (i % 50));
                    ps.setObject(3, t.plusNanos(i * 1000L));
                    ps.setLong(4, body.length);
                    ps.setBytes(5, body);
                    ps.addBatch();
                    if (i % 10_000 == 9_999) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
                ps.executeBatch();
                c.commit();
            }
        }
    }
}
