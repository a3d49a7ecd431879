package dev.siteward.gateway.audit;

import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.gateway.store.TestDatabases;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.testkit.MutableClock;
import dev.siteward.pki.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Audit append throughput (docs/benchmarks.md, "Audit log"): on H2 and PostgreSQL, {@link AuditLog#append} with 1
 * and 4 threads next to a plain INSERT of a row of the same shape, one row per committed transaction, in the same
 * run; and the cost of one signed head write (ES256 + write, fsync, rename, directory fsync) alone.
 * {@code mvn -B -q -pl gateway -am -Pbench-audit -DskipTests test [-Dbench.seconds=5]}
 */
public final class AuditAppendBench {

    private AuditAppendBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "5"));
        Path dir = Files.createTempDirectory("audit-bench");
        MutableClock clock = MutableClock.atSystemTime();
        try (TestPki pki = TestPki.create(dir.resolve("data"), clock)) {
            AuditKey key = AuditKey.ensure(dir.resolve("data"), pki.ca(), clock);
            System.out.printf(Locale.ROOT, "head write alone (sign + fsync + rename): %.0f /s%n",
                    rate(seconds, 1, () -> SecureFiles.writeAtomically(dir.resolve("head-bench.json"),
                            AuditLog.headJson(AuditCheckpoint.sign(AuditCheckpoint.HEAD, 1, "00", clock.instant(),
                                    key)), false)));
            for (TestDatabases.Kind kind : TestDatabases.Kind.values()) {
                Path data = dir.resolve(kind.name().toLowerCase(Locale.ROOT));
                GatewayStore store;
                try {
                    store = open(kind, data);
                } catch (RuntimeException | StoreException e) {
                    System.out.println(kind + ": skipped (" + e.getMessage() + ")");
                    continue;
                }
                try {
                    try (Connection c = store.connection(); Statement st = c.createStatement()) {
                        st.execute("CREATE TABLE bench_plain (seq BIGINT NOT NULL PRIMARY KEY, recorded_at TIMESTAMP "
                                + "WITH TIME ZONE NOT NULL, type VARCHAR(64) NOT NULL, actor VARCHAR(256) NOT NULL, "
                                + "subject VARCHAR(1024) NOT NULL, details VARCHAR(65536) NOT NULL, prev_hash "
                                + "VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL)");
                    }
                    long[] next = {0};
                    double plain = rate(seconds, 1, () -> store.inTransaction(c -> {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_plain VALUES "
                                + "(?, ?, ?, ?, ?, ?, ?, ?)")) {
                            long s;
                            synchronized (next) {
                                s = ++next[0];
                            }
                            ps.setLong(1, s);
                            ps.setObject(2, OffsetDateTime.now(ZoneOffset.UTC));
                            ps.setString(3, "admin_call");
                            ps.setString(4, "admin/alice");
                            ps.setString(5, "/v1/admin/devices");
                            ps.setString(6, "{\"method\":\"GET\",\"status\":200}");
                            ps.setString(7, "0".repeat(64));
                            ps.setString(8, "1".repeat(64));
                            return ps.executeUpdate();
                        }
                    }));
                    AuditLog log = new AuditLog(store, data, Clock.systemUTC(), new AuditSettings(1000,
                            Duration.ofMinutes(10), null), () -> key, pki.root());
                    AuditEvent event = AuditEvent.of(AuditEvent.ADMIN_CALL).actor("admin/alice")
                            .subject("/v1/admin/devices").detail("method", "GET").detail("status", 200).build();
                    double one = rate(seconds, 1, () -> log.append(event));
                    double four = rate(seconds, 4, () -> log.append(event));
                    log.close();
                    AuditLog delayed = new AuditLog(store, data, Clock.systemUTC(), new AuditSettings(1000,
                            Duration.ofMinutes(10), null, Duration.ofMillis(50)), () -> key, pki.root());
                    double oneDelayed = rate(seconds, 1, () -> delayed.append(event));
                    double fourDelayed = rate(seconds, 4, () -> delayed.append(event));
                    delayed.close();
                    AuditVerification v = delayed.verify();
                    System.out.printf(Locale.ROOT, "%s: plain INSERT %.0f rows/s | audit append, head before return: "
                            + "1 thread %.0f records/s (%.2f of plain), 4 threads %.0f (%.2f) | head-delay 50ms: "
                            + "1 thread %.0f (%.2f), 4 threads %.0f (%.2f) | %s%n", kind, plain, one, one / plain, four,
                            four / plain, oneDelayed, oneDelayed / plain, fourDelayed, fourDelayed / plain, v.summary());
                } finally {
                    store.close();
                    TestDatabases.drop(store);
                }
            }
        }
    }

    private static GatewayStore open(TestDatabases.Kind kind, Path data) throws StoreException {
        try {
            return TestDatabases.open(kind, data);
        } catch (org.opentest4j.TestAbortedException e) {
            throw new IllegalStateException(e.getMessage());
        }
    }

    @FunctionalInterface
    interface Op {
        void run() throws Exception;
    }

    /** Operations per second over {@code seconds} after a warm-up of a fifth of that, with {@code threads}. */
    static double rate(double seconds, int threads, Op op) throws Exception {
        long warm = System.nanoTime() + (long) (seconds * 2e8);
        while (System.nanoTime() < warm) {
            op.run();
        }
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Long>> counts = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            counts.add(pool.submit(() -> {
                long n = 0;
                while (!stop.get()) {
                    op.run();
                    n++;
                }
                return n;
            }));
        }
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        long total = 0;
        for (Future<Long> f : counts) {
            total += f.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        return total / elapsed;
    }
}
