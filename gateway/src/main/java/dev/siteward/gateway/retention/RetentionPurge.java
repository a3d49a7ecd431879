package dev.siteward.gateway.retention;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.audit.AuditEvent;
import dev.siteward.gateway.audit.AuditLog;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.policies.retention.ClassRule;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.LegalHold;
import dev.siteward.policies.retention.RetentionRules;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes what the retention rules no longer allow, oldest first, in bounded batches: records older than their
 * class's {@code maxAge}, then the oldest records while a class is above its {@code maxSize}; records a legal hold
 * matches are never deleted. Audit records are cut through {@link AuditLog#purgeBefore}, which keeps the chain
 * verifiable from a signed checkpoint.
 *
 * <p>Each batch deletes its records and updates the run's row in {@code retention_purges} in one short transaction,
 * so writers are never held up for long and the row always matches what is gone. A run cut off (kill -9) leaves an
 * unfinished row, which the next run continues; when a class is done, a deletion receipt (class, count, bytes, time
 * range, the chained SHA-256 of the deleted ids) is appended to the audit log and only then is the row finished.
 *
 * <p>Nothing is deleted while the clock is not trusted: when it is behind the recorded time, or jumped forward
 * without an operator confirming it ({@code siteward time accept}), a jump that would otherwise expire data early.
 */
public final class RetentionPurge {

    private static final Logger LOG = LoggerFactory.getLogger(RetentionPurge.class);
    static final String ZERO_DIGEST = "0".repeat(64);

    /** Why deleting is not safe now, if it is not (the clock's state). */
    @FunctionalInterface
    public interface ClockTrust {
        Optional<String> refusal();
    }

    /** The labels of each known device, for holds by label. */
    @FunctionalInterface
    public interface DeviceLabels {
        Map<String, Map<String, String>> all() throws StoreException;
    }

    /** What one class's purge deleted. */
    public record ClassPurge(String dataClass, String runId, long deleted, long bytes, Instant oldest, Instant newest,
                             String digest, boolean resumed, long receiptSeq) {
    }

    /** The result of a run: what was purged, or why nothing was ({@code skipped}). */
    public record Result(Instant at, String skipped, List<ClassPurge> classes) {
        public long deleted() {
            return classes.stream().mapToLong(ClassPurge::deleted).sum();
        }
    }

    private final GatewayStore store;
    private final Supplier<RetentionRules> rules;
    private final DeviceLabels labels;
    private final AuditLog audit;
    private final ClockTrust trust;
    private final Clock clock;
    private final int batch;
    private volatile Instant lastRun;

    public RetentionPurge(GatewayStore store, Supplier<RetentionRules> rules, DeviceLabels labels, AuditLog audit,
                          ClockTrust trust, Clock clock, int batch) {
        this.store = store;
        this.rules = rules;
        this.labels = labels;
        this.audit = audit;
        this.trust = trust;
        this.clock = clock;
        this.batch = batch;
    }

    /** When the last run that was not skipped started, or null. */
    public Instant lastRun() {
        return lastRun;
    }

    /** Runs one purge over every class (one at a time per process). */
    public synchronized Result run() throws StoreException, GatewayException {
        Instant now = clock.instant();
        Optional<String> refusal = trust.refusal();
        if (refusal.isPresent()) {
            LOG.warn("retention purge skipped: {}", refusal.get());
            return new Result(now, refusal.get(), List.of());
        }
        RetentionRules r = rules.get();
        Map<String, Map<String, String>> deviceLabels = labels.all();
        List<ClassPurge> out = new ArrayList<>();
        String runId = DataRecords.newId(now);
        for (DataClass c : DataClass.values()) {
            if (c == DataClass.AUDIT_RECORDS) {
                r.rule(c).ifPresent(rule -> purgeAudit(rule, r.holds(c), now));
                continue;
            }
            Run run = openRun(c, runId, now);
            Optional<ClassRule> rule = r.rule(c);
            if (rule.isPresent()) {
                List<LegalHold> holds = r.holds(c);
                if (rule.get().maxAge() != null) {
                    deleteBatches(run, holds, deviceLabels, now.minus(rule.get().maxAge()), Long.MAX_VALUE);
                }
                if (rule.get().maxBytes() != null) {
                    long excess = totalBytes(c) - rule.get().maxBytes();
                    if (excess > 0) {
                        deleteBatches(run, holds, deviceLabels, null, excess);
                    }
                }
            }
            if (run.deleted > 0 || run.resumed) {
                out.add(finish(run));
            } else {
                discard(run);
            }
        }
        lastRun = now;
        return new Result(now, null, out);
    }

    /** A class's run row, mirrored in memory. */
    private static final class Run {
        final DataClass dataClass;
        final String id;
        final boolean resumed;
        long deleted;
        long bytes;
        Instant oldest;
        Instant newest;
        String digest;

        Run(DataClass dataClass, String id, boolean resumed, long deleted, long bytes, Instant oldest, Instant newest,
            String digest) {
            this.dataClass = dataClass;
            this.id = id;
            this.resumed = resumed;
            this.deleted = deleted;
            this.bytes = bytes;
            this.oldest = oldest;
            this.newest = newest;
            this.digest = digest;
        }
    }

    private Run openRun(DataClass c, String runId, Instant now) throws StoreException {
        return store.inTransaction(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT run_id, deleted, bytes, oldest, newest, digest "
                    + "FROM retention_purges WHERE data_class = ? AND finished_at IS NULL")) {
                ps.setString(1, c.id());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        LOG.warn("finishing the purge of {} cut off in run {}", c.id(), rs.getString(1));
                        return new Run(c, rs.getString(1), true, rs.getLong(2), rs.getLong(3), instant(rs, 4),
                                instant(rs, 5), rs.getString(6));
                    }
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO retention_purges (run_id, data_class, "
                    + "started_at, deleted, bytes, digest) VALUES (?, ?, ?, 0, 0, ?)")) {
                ps.setString(1, runId);
                ps.setString(2, c.id());
                ps.setObject(3, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                ps.setString(4, ZERO_DIGEST);
                ps.executeUpdate();
            }
            return new Run(c, runId, false, 0, 0, null, null, ZERO_DIGEST);
        });
    }

    private record Candidate(RetainedTable table, String id, String device, Instant time, long size) {
    }

    /** Where the walk of one table stands: after (time, id), or done. */
    private record Cursor(Instant time, String id, boolean done) {
        static final Cursor START = new Cursor(null, "", false);
    }

    /**
     * Walk order across tables: by time. The sort is stable, so records of one table keep the database's order
     * (time, then id in the database's collation), which the keyset cursor relies on.
     */
    private static final java.util.Comparator<Candidate> WALK = java.util.Comparator.comparing(Candidate::time);

    /** One batch: the records examined (in walk order), the cursors after it. */
    private record Batch(List<Candidate> examined, Cursor[] next) {
    }

    /**
     * Walks the class's tables together, oldest first (keyset on time, id), up to {@code cutoff} (null: no age
     * limit), deleting the records no hold matches until {@code budget} bytes are gone, one transaction per batch of
     * at most {@code batch} records, yielding to writers between batches.
     */
    private void deleteBatches(Run run, List<LegalHold> holds, Map<String, Map<String, String>> deviceLabels,
                               Instant cutoff, long budget) throws StoreException {
        List<RetainedTable> tables = RetainedTable.of(run.dataClass);
        Cursor[] cursors = new Cursor[tables.size()];
        java.util.Arrays.fill(cursors, Cursor.START);
        long remaining = budget;
        long startBytes = run.bytes;
        while (remaining > 0) {
            Cursor[] at = cursors.clone();
            long left = remaining;
            Batch done = store.inTransaction(conn -> {
                Batch b = nextBatch(conn, run.dataClass, tables, cutoff, at);
                if (b.examined().isEmpty()) {
                    return b;
                }
                List<Candidate> doomed = new ArrayList<>();
                long freed = 0;
                for (Candidate k : b.examined()) {
                    if (freed >= left) {
                        break;
                    }
                    Map<String, String> l = deviceLabels.getOrDefault(k.device(), Map.of());
                    if (holds.stream().anyMatch(h -> h.holds(run.dataClass, k.device(), l, k.time()))) {
                        continue;
                    }
                    doomed.add(k);
                    freed += k.size();
                }
                if (!doomed.isEmpty()) {
                    for (RetainedTable t : tables) {
                        delete(conn, run.dataClass, t, b.examined(), doomed);
                    }
                    record(conn, run, doomed);
                }
                return b;
            });
            if (done.examined().isEmpty()) {
                return;
            }
            cursors = done.next();
            if (budget != Long.MAX_VALUE) {
                remaining = budget - (run.bytes - startBytes);
            }
            // a writer waiting for the store gets it before the next batch starts
            Thread.yield();
        }
    }

    /** Reads the next page of every table not yet done and merges them: the oldest {@code batch} records. */
    private Batch nextBatch(Connection conn, DataClass c, List<RetainedTable> tables, Instant cutoff, Cursor[] at)
            throws SQLException {
        List<Candidate> merged = new ArrayList<>();
        boolean[] full = new boolean[tables.size()];
        for (int i = 0; i < tables.size(); i++) {
            if (!at[i].done()) {
                List<Candidate> page = page(conn, c, tables.get(i), cutoff, at[i]);
                full[i] = page.size() == batch;
                merged.addAll(page);
            }
        }
        merged.sort(WALK);
        List<Candidate> examined = List.copyOf(merged.subList(0, Math.min(batch, merged.size())));
        Cursor[] next = at.clone();
        for (int i = 0; i < tables.size(); i++) {
            if (at[i].done()) {
                continue;
            }
            RetainedTable t = tables.get(i);
            Candidate last = null;
            int taken = 0;
            int read = 0;
            for (Candidate k : merged) {
                if (k.table() == t) {
                    read++;
                }
            }
            for (Candidate k : examined) {
                if (k.table() == t) {
                    last = k;
                    taken++;
                }
            }
            next[i] = last == null ? at[i] : new Cursor(last.time(), last.id(), !full[i] && taken == read);
            if (read == 0) {
                next[i] = new Cursor(at[i].time(), at[i].id(), true);
            }
        }
        return new Batch(examined, next);
    }

    private List<Candidate> page(Connection conn, DataClass c, RetainedTable t, Instant cutoff, Cursor after)
            throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT id, ").append(t.deviceColumn()).append(", ")
                .append(t.timeColumn()).append(", ").append(t.sizeSql()).append(" FROM ").append(t.table())
                .append(" WHERE ").append(t.classFilter());
        if (cutoff != null) {
            sql.append(" AND ").append(t.timeColumn()).append(" <= ?");
        }
        if (after.time() != null) {
            // the plain lower bound lets the (class, time, id) index start at the cursor
            sql.append(" AND ").append(t.timeColumn()).append(" >= ? AND (").append(t.timeColumn())
                    .append(" > ? OR id > ?)");
        }
        // the full index order: H2 then reads the index in order and stops after the page (ordering by time and
        // id alone made it read and sort every remaining record of the class for each page)
        sql.append(" ORDER BY ").append(t.walkOrder()).append(" LIMIT ").append(batch);
        try (PreparedStatement ps = conn.prepareStatement(sql.toString())) {
            int i = 1;
            if (t.hasClass()) {
                ps.setString(i++, c.id());
            }
            if (cutoff != null) {
                ps.setObject(i++, OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC));
            }
            if (after.time() != null) {
                OffsetDateTime time = OffsetDateTime.ofInstant(after.time(), ZoneOffset.UTC);
                ps.setObject(i++, time);
                ps.setObject(i++, time);
                ps.setString(i, after.id());
            }
            List<Candidate> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Candidate(t, rs.getString(1), rs.getString(2), instant(rs, 3), rs.getLong(4)));
                }
            }
            return out;
        }
    }

    /**
     * Deletes a batch's doomed records of one table. When they are one unbroken run of the walk (no held record
     * between them: the usual case), by key range, which walks the index once; checked against the count
     * expected, and undone to a savepoint and redone by id if a record arrived inside the range meanwhile.
     * Otherwise (holds skipped records in between) by id.
     */
    private static void delete(Connection conn, DataClass c, RetainedTable t, List<Candidate> examined,
                               List<Candidate> doomed) throws SQLException {
        List<Candidate> mine = doomed.stream().filter(k -> k.table() == t).toList();
        if (mine.isEmpty()) {
            return;
        }
        List<Candidate> walk = examined.stream().filter(k -> k.table() == t).toList();
        int first = walk.indexOf(mine.get(0));
        boolean unbroken = walk.subList(first, first + mine.size()).equals(mine);
        if (unbroken && mine.size() > 1) {
            java.sql.Savepoint sp = conn.setSavepoint();
            if (deleteRange(conn, c, t, mine.get(0), mine.get(mine.size() - 1)) == mine.size()) {
                conn.releaseSavepoint(sp);
                return;
            }
            conn.rollback(sp);
            LOG.debug("purge range of {} changed under it; deleting by id", t.table());
        }
        deleteIds(conn, t, mine);
    }

    private static int deleteRange(Connection conn, DataClass c, RetainedTable t, Candidate from, Candidate to)
            throws SQLException {
        String time = t.timeColumn();
        String sql = "DELETE FROM " + t.table() + " WHERE " + t.classFilter() + " AND " + time + " >= ? AND "
                + time + " <= ? AND (" + time + " > ? OR id >= ?) AND (" + time + " < ? OR id <= ?)";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            int i = 1;
            if (t.hasClass()) {
                ps.setString(i++, c.id());
            }
            OffsetDateTime lo = OffsetDateTime.ofInstant(from.time(), ZoneOffset.UTC);
            OffsetDateTime hi = OffsetDateTime.ofInstant(to.time(), ZoneOffset.UTC);
            ps.setObject(i++, lo);
            ps.setObject(i++, hi);
            ps.setObject(i++, lo);
            ps.setString(i++, from.id());
            ps.setObject(i++, hi);
            ps.setString(i, to.id());
            return ps.executeUpdate();
        }
    }

    private static void deleteIds(Connection conn, RetainedTable t, List<Candidate> doomed) throws SQLException {
        for (int from = 0; from < doomed.size(); from += 500) {
            List<Candidate> part = doomed.subList(from, Math.min(doomed.size(), from + 500));
            String marks = String.join(",", java.util.Collections.nCopies(part.size(), "?"));
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM " + t.table() + " WHERE id IN (" + marks
                    + ")")) {
                for (int i = 0; i < part.size(); i++) {
                    ps.setString(i + 1, part.get(i).id());
                }
                ps.executeUpdate();
            }
        }
    }

    /** Adds a batch to the run row (same transaction as the delete) and to its in-memory mirror. */
    private static void record(Connection conn, Run run, List<Candidate> doomed) throws SQLException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        md.update((run.digest + "\n").getBytes(StandardCharsets.US_ASCII));
        long bytes = 0;
        Instant oldest = run.oldest;
        Instant newest = run.newest;
        for (Candidate k : doomed) {
            md.update((k.id() + "\n").getBytes(StandardCharsets.US_ASCII));
            bytes += k.size();
            oldest = oldest == null || k.time().isBefore(oldest) ? k.time() : oldest;
            newest = newest == null || k.time().isAfter(newest) ? k.time() : newest;
        }
        String digest = HexFormat.of().formatHex(md.digest());
        try (PreparedStatement ps = conn.prepareStatement("UPDATE retention_purges SET deleted = deleted + ?, "
                + "bytes = bytes + ?, oldest = ?, newest = ?, digest = ? WHERE run_id = ? AND data_class = ?")) {
            ps.setLong(1, doomed.size());
            ps.setLong(2, bytes);
            ps.setObject(3, OffsetDateTime.ofInstant(oldest, ZoneOffset.UTC));
            ps.setObject(4, OffsetDateTime.ofInstant(newest, ZoneOffset.UTC));
            ps.setString(5, digest);
            ps.setString(6, run.id);
            ps.setString(7, run.dataClass.id());
            ps.executeUpdate();
        }
        // mirrored only once the statements succeeded; a failed commit throws out of the run
        run.deleted += doomed.size();
        run.bytes += bytes;
        run.oldest = oldest;
        run.newest = newest;
        run.digest = digest;
    }

    /** The records, bytes and oldest record time of a class across its tables. */
    record Totals(long records, long bytes, Instant oldest) {
    }

    static Totals totals(Connection conn, DataClass c) throws SQLException {
        long records = 0;
        long bytes = 0;
        Instant oldest = null;
        for (RetainedTable t : RetainedTable.of(c)) {
            try (PreparedStatement ps = conn.prepareStatement("SELECT COUNT(*), COALESCE(SUM(" + t.sizeSql()
                    + "), 0), MIN(" + t.timeColumn() + ") FROM " + t.table() + " WHERE " + t.classFilter())) {
                if (t.hasClass()) {
                    ps.setString(1, c.id());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    records += rs.getLong(1);
                    bytes += rs.getLong(2);
                    Instant o = instant(rs, 3);
                    oldest = oldest == null || (o != null && o.isBefore(oldest)) ? o : oldest;
                }
            }
        }
        return new Totals(records, bytes, oldest);
    }

    private long totalBytes(DataClass c) throws StoreException {
        return store.inTransaction(conn -> totals(conn, c).bytes());
    }

    /** Appends the deletion receipt, then marks the run row finished. */
    private ClassPurge finish(Run run) throws StoreException {
        AuditEvent receipt = AuditEvent.of(AuditEvent.PURGE).actor(AuditEvent.GATEWAY).subject(run.dataClass.id())
                .detail("class", run.dataClass.id())
                .detail("run", run.id)
                .detail("count", run.deleted)
                .detail("bytes", run.bytes)
                .detail("from", run.oldest == null ? "" : run.oldest.toString())
                .detail("to", run.newest == null ? "" : run.newest.toString())
                .detail("digest", run.digest)
                .detail("resumed", run.resumed)
                .build();
        long seq = audit.append(receipt);
        store.inTransaction(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("UPDATE retention_purges SET finished_at = ?, "
                    + "receipt_seq = ? WHERE run_id = ? AND data_class = ?")) {
                ps.setObject(1, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
                ps.setLong(2, seq);
                ps.setString(3, run.id);
                ps.setString(4, run.dataClass.id());
                ps.executeUpdate();
            }
            return null;
        });
        LOG.info("retention purge of {}: {} records ({} bytes) from {} to {}, receipt at audit record {}",
                run.dataClass.id(), run.deleted, run.bytes, run.oldest, run.newest, seq);
        return new ClassPurge(run.dataClass.id(), run.id, run.deleted, run.bytes, run.oldest, run.newest, run.digest,
                run.resumed, seq);
    }

    /** Removes a run row that deleted nothing (no receipt needed). */
    private void discard(Run run) throws StoreException {
        store.inTransaction(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM retention_purges WHERE run_id = ? "
                    + "AND data_class = ? AND deleted = 0")) {
                ps.setString(1, run.id);
                ps.setString(2, run.dataClass.id());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Cuts the audit log before its records older than {@code maxAge}; a hold on audit records keeps everything
     * from its {@code since} on (or all of it, without one). The log's own purge writes the receipt.
     */
    private void purgeAudit(ClassRule rule, List<LegalHold> holds, Instant now) {
        if (rule.maxAge() == null) {
            return;
        }
        Instant cutoff = now.minus(rule.maxAge());
        for (LegalHold h : holds) {
            if (h.since() == null) {
                return;
            }
            if (h.since().isBefore(cutoff) && (h.until() == null || h.until().isAfter(h.since()))) {
                cutoff = h.since().minusNanos(1);
            }
        }
        Instant cut = cutoff;
        try {
            long[] seqs = store.inTransaction(conn -> {
                try (PreparedStatement ps = conn.prepareStatement("SELECT MAX(seq) FROM audit_records "
                        + "WHERE recorded_at <= ?");
                     PreparedStatement last = conn.prepareStatement("SELECT MAX(seq) FROM audit_records")) {
                    ps.setObject(1, OffsetDateTime.ofInstant(cut, ZoneOffset.UTC));
                    long upTo;
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        upTo = rs.getLong(1);
                    }
                    try (ResultSet rs = last.executeQuery()) {
                        rs.next();
                        return new long[] {upTo, rs.getLong(1)};
                    }
                }
            });
            if (seqs[0] <= 0) {
                return;
            }
            long before = Math.min(seqs[0] + 1, seqs[1]);
            AuditLog.PurgeReceipt r = audit.purgeBefore(before);
            if (r.count() > 0) {
                LOG.info("retention purge of audit records: {} records ({} to {})", r.count(), r.from(), r.to());
            }
        } catch (StoreException | GatewayException e) {
            LOG.error("retention purge of audit records failed: {}", e.getMessage());
        }
    }

    static Instant instant(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
