package dev.siteward.gateway.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only, hash-chained audit log in the gateway database (tables {@code audit_records},
 * {@code audit_checkpoints}, {@code audit_state}; format in docs/audit.md).
 *
 * <ul>
 *   <li>{@link #append} adds one record in its own transaction, serialised by a row lock on {@code audit_state}
 *   (so threads and processes sharing the database never fork the chain), and signs a checkpoint into the same
 *   transaction every {@code checkpointEvery} records or {@code checkpointInterval};</li>
 *   <li>after the commit, the signed head ({@code <data-dir>/audit/head.json}, written with fsync and rename) is
 *   brought up to the new record before {@code append} returns. Concurrent appends share one head write (group
 *   commit);</li>
 *   <li>{@link #verify} and {@link #export} read; {@link #purgeBefore} deletes the oldest records, keeping a signed
 *   checkpoint at the cut and recording a deletion receipt.</li>
 * </ul>
 */
public final class AuditLog implements AuditTrail, AutoCloseable {

    /** The head file, relative to the data dir. */
    public static final String HEAD_FILE = "audit/head.json";
    /** Maximum size of a record's details JSON, in characters. */
    public static final int MAX_DETAILS = 16_384;

    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
            .findAndRegisterModules().disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    /** Supplies the signing key when first needed (the CLI may verify without ever unlocking the CA). */
    @FunctionalInterface
    public interface KeySource {
        AuditKey get() throws Exception;
    }

    private final GatewayStore store;
    private final Path headFile;
    private final Clock clock;
    private final AuditSettings settings;
    private final KeySource keySource;
    private final X509Certificate root;
    private final AuditHeadSink sink;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final Object headLock = new Object();
    private final Object keyLock = new Object();
    private volatile AuditKey key;
    /** How long after a renewal attempt of the audit certificate the next one may be made. */
    static final java.time.Duration KEY_RETRY = java.time.Duration.ofMinutes(10);
    private volatile Instant nextKeyAttempt = Instant.MIN;
    private long latestSeq; // guarded by appendLock
    private String latestHash; // guarded by appendLock
    private volatile long sealedSeq = -1;
    private volatile boolean recovered;
    private final java.util.concurrent.ScheduledExecutorService delayedSealer;
    private final java.util.concurrent.atomic.AtomicBoolean sealScheduled = new java.util.concurrent.atomic.AtomicBoolean();

    public AuditLog(GatewayStore store, Path dataDir, Clock clock, AuditSettings settings, KeySource keySource,
                    X509Certificate root) {
        this.store = store;
        this.headFile = dataDir.resolve(HEAD_FILE);
        this.clock = clock;
        this.settings = settings;
        this.keySource = keySource;
        this.root = root;
        this.sink = settings.headSink() == null ? null : new AuditHeadSink(settings.headSink());
        this.delayedSealer = settings.headDelay().isZero() ? null
                : java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "audit-head");
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Appends the event as the next record and returns its sequence number, once it is committed and sealed. */
    public long append(AuditEvent event) throws StoreException {
        if (!recovered) {
            recover();
        }
        String details = details(event);
        AuditRecord record;
        appendLock.lock();
        try {
            record = store.inTransaction(c -> {
                State s = lockState(c);
                AuditRecord r = AuditRecord.create(s.lastSeq + 1, clock.instant(), event.type(), event.actor(),
                        event.subject(), details, s.lastHash);
                insert(c, r);
                Instant intervalStart = s.checkpointAt == null ? r.time() : s.checkpointAt;
                boolean due = r.seq() - s.checkpointSeq >= settings.checkpointEvery()
                        || !clock.instant().isBefore(intervalStart.plus(settings.checkpointInterval()));
                AuditCheckpoint cp = due ? checkpoint(c, r.seq(), r.hash()) : null;
                updateState(c, r, cp == null ? s.checkpointSeq : cp.seq(), cp == null ? intervalStart : cp.signedAt());
                return r;
            });
            latestSeq = record.seq();
            latestHash = record.hash();
        } finally {
            appendLock.unlock();
        }
        if (delayedSealer == null) {
            seal(record.seq());
        } else if (sealScheduled.compareAndSet(false, true)) {
            delayedSealer.schedule(this::delayedSeal, settings.headDelay().toNanos(),
                    java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        return record.seq();
    }

    private void delayedSeal() {
        sealScheduled.set(false);
        long target;
        appendLock.lock();
        try {
            target = latestSeq;
        } finally {
            appendLock.unlock();
        }
        try {
            seal(target);
        } catch (StoreException | RuntimeException e) {
            LOG.error("cannot seal the audit log: {}", e.getMessage(), e);
        }
    }

    /** Appends and logs (rather than throws) a failure: for reporting actions that have already happened. */
    @Override
    public void record(AuditEvent event) {
        try {
            append(event);
        } catch (StoreException | RuntimeException e) {
            LOG.error("AUDIT RECORD LOST: cannot append {} by {} on {}: {}", event.type(), event.actor(),
                    event.subject(), e.getMessage(), e);
        }
    }

    private static String details(AuditEvent event) {
        String json;
        try {
            json = JSON.writeValueAsString(event.details());
        } catch (IOException e) {
            throw new IllegalArgumentException("audit details are not serialisable: " + e.getMessage(), e);
        }
        if (json.length() > MAX_DETAILS) {
            throw new IllegalArgumentException("audit details too large (" + json.length() + " > " + MAX_DETAILS
                    + " characters)");
        }
        return json;
    }

    private record State(long lastSeq, String lastHash, long checkpointSeq, Instant checkpointAt) {
    }

    private static State lockState(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT last_seq, last_hash, checkpoint_seq, checkpoint_at "
                + "FROM audit_state WHERE id = 1 FOR UPDATE"); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("audit_state row missing");
            }
            OffsetDateTime at = rs.getObject(4, OffsetDateTime.class);
            return new State(rs.getLong(1), rs.getString(2), rs.getLong(3), at == null ? null : at.toInstant());
        }
    }

    private static void insert(Connection c, AuditRecord r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_records (seq, recorded_at, type, actor, "
                + "subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, r.seq());
            ps.setObject(2, OffsetDateTime.ofInstant(r.time(), ZoneOffset.UTC));
            ps.setString(3, r.type());
            ps.setString(4, r.actor());
            ps.setString(5, r.subject());
            ps.setString(6, r.details());
            ps.setString(7, r.prevHash());
            ps.setString(8, r.hash());
            ps.executeUpdate();
        }
    }

    private static void updateState(Connection c, AuditRecord r, long checkpointSeq, Instant checkpointAt)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE audit_state SET last_seq = ?, last_hash = ?, "
                + "checkpoint_seq = ?, checkpoint_at = ? WHERE id = 1")) {
            ps.setLong(1, r.seq());
            ps.setString(2, r.hash());
            ps.setLong(3, checkpointSeq);
            ps.setObject(4, checkpointAt == null ? null : OffsetDateTime.ofInstant(checkpointAt, ZoneOffset.UTC));
            ps.executeUpdate();
        }
    }

    private AuditCheckpoint checkpoint(Connection c, long seq, String hash) throws SQLException {
        AuditCheckpoint cp;
        try {
            cp = AuditCheckpoint.sign(AuditCheckpoint.CHECKPOINT, seq, hash, clock.instant(), key());
        } catch (Exception e) {
            throw new SQLException("cannot sign an audit checkpoint: " + e.getMessage(), e);
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, "
                + "signature, certificates) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, cp.seq());
            ps.setString(2, cp.hash());
            ps.setObject(3, OffsetDateTime.ofInstant(cp.signedAt(), ZoneOffset.UTC));
            ps.setString(4, cp.keyId());
            ps.setString(5, cp.signature());
            ps.setString(6, cp.certificates());
            ps.executeUpdate();
        }
        return cp;
    }

    /**
     * The signing key, loaded when first needed. Once its certificate is due for renewal (a third of its lifetime
     * left) the key source is asked again — {@link AuditKey#ensure} re-issues the certificate — at most once per
     * {@link #KEY_RETRY}; if that fails the current certificate keeps signing (checkpoints are verified at their
     * signing time, so certificates of any age stay verifiable).
     */
    private AuditKey key() throws Exception {
        AuditKey k = key;
        if (k == null || (k.renewalDue(clock) && !clock.instant().isBefore(nextKeyAttempt))) {
            synchronized (keyLock) {
                if (key == null) {
                    key = keySource.get();
                } else if (key.renewalDue(clock) && !clock.instant().isBefore(nextKeyAttempt)) {
                    try {
                        AuditKey renewed = keySource.get();
                        if (!renewed.chain().get(0).equals(key.chain().get(0))) {
                            LOG.info("audit certificate renewed: serial {}, valid until {}",
                                    renewed.chain().get(0).getSerialNumber().toString(16),
                                    renewed.chain().get(0).getNotAfter().toInstant());
                        }
                        key = renewed;
                    } catch (Exception e) {
                        LOG.warn("renewing the audit certificate failed; still signing with serial {}: {}",
                                key.chain().get(0).getSerialNumber().toString(16), e.toString());
                    }
                    nextKeyAttempt = clock.instant().plus(KEY_RETRY);
                }
                k = key;
            }
        }
        return k;
    }

    /**
     * Brings the head file up to at least {@code seq}. One writer at a time; a writer signs the newest committed
     * record, so appends that committed while it waited are sealed by the same write (group commit).
     */
    private void seal(long seq) throws StoreException {
        if (sealedSeq >= seq) {
            return;
        }
        synchronized (headLock) {
            if (sealedSeq >= seq) {
                return;
            }
            long s;
            String h;
            appendLock.lock();
            try {
                s = latestSeq;
                h = latestHash;
            } finally {
                appendLock.unlock();
            }
            writeHead(s, h);
            sealedSeq = s;
        }
    }

    private void writeHead(long seq, String hash) throws StoreException {
        try {
            AuditCheckpoint head = AuditCheckpoint.sign(AuditCheckpoint.HEAD, seq, hash, clock.instant(), key());
            String json = headJson(head);
            SecureFiles.writeAtomically(headFile, json, false);
            if (sink != null) {
                sink.push(json);
            }
        } catch (Exception e) {
            throw new StoreException("cannot write the audit head file " + headFile + ": " + e.getMessage(), e);
        }
    }

    static String headJson(AuditCheckpoint head) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", AuditCheckpoint.HEAD);
        m.put("seq", head.seq());
        m.put("hash", head.hash());
        m.put("signedAt", AuditRecord.formatTime(head.signedAt()));
        m.put("keyId", head.keyId());
        m.put("signature", head.signature());
        m.put("certificates", head.certificates());
        return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n";
    }

    /** The head file's content, or null when there is none; unreadable content is reported as a problem. */
    AuditCheckpoint readHead() throws GatewayException {
        if (!Files.exists(headFile)) {
            return null;
        }
        try {
            return parseHead(new ObjectMapper().readTree(headFile.toFile()));
        } catch (IOException | RuntimeException e) {
            throw new GatewayException(Reason.INTERNAL, "the audit head file " + headFile + " is unreadable: "
                    + e.getMessage(), e);
        }
    }

    static AuditCheckpoint parseHead(com.fasterxml.jackson.databind.JsonNode n) {
        if (!AuditCheckpoint.HEAD.equals(n.path("format").asText())) {
            throw new IllegalArgumentException("not a " + AuditCheckpoint.HEAD + " head");
        }
        return new AuditCheckpoint(n.get("seq").asLong(), n.get("hash").asText(),
                Instant.parse(n.get("signedAt").asText()), n.get("keyId").asText(), n.get("signature").asText(),
                n.get("certificates").asText());
    }

    /**
     * Run when the gateway starts: when the head file is missing or does not match the end of the log (the gateway
     * was killed between a commit and its head write, or the head or the log were tampered with), appends an
     * {@code audit_recovery} record saying what was found, then seals the log again. What was found stays on the
     * record, chained and signed; nothing is silently repaired. Runs once, before the first append at the latest.
     */
    public synchronized void recover() throws StoreException {
        if (recovered) {
            return;
        }
        State s = store.inTransaction(AuditLog::readState);
        AuditCheckpoint head;
        try {
            head = readHead();
        } catch (GatewayException e) {
            head = null;
        }
        String finding = null;
        if (head == null && s.lastSeq > 0) {
            finding = Files.exists(headFile) ? "head file unreadable" : "head file missing";
        } else if (head != null && head.problem(AuditCheckpoint.HEAD, root) != null) {
            finding = "head file signature invalid";
        } else if (head != null && head.seq() > s.lastSeq) {
            finding = "log ends before the head file (records " + (s.lastSeq + 1) + ".." + head.seq() + " missing)";
        } else if (head != null && head.seq() < s.lastSeq) {
            String atHead = hashOf(head.seq());
            finding = head.hash().equals(atHead)
                    ? "head file behind the log (gateway stopped before sealing records " + (head.seq() + 1) + ".."
                    + s.lastSeq + ")"
                    : "head file does not match record " + head.seq();
        } else if (head != null && head.seq() == s.lastSeq && s.lastSeq > 0 && !head.hash().equals(s.lastHash)) {
            finding = "head file does not match record " + head.seq();
        }
        appendLock.lock();
        try {
            latestSeq = s.lastSeq;
            latestHash = s.lastHash;
        } finally {
            appendLock.unlock();
        }
        recovered = true; // appends may go ahead from here (the recovery record below is one of them)
        if (finding != null) {
            LOG.warn("audit log at start-up: {}; recording it and sealing the log again", finding);
            append(AuditEvent.of(AuditEvent.AUDIT_RECOVERY).actor(AuditEvent.GATEWAY).subject("audit")
                    .detail("finding", finding).detail("logSeq", s.lastSeq)
                    .detail("headSeq", head == null ? null : head.seq()).build());
        } else if (head != null) {
            sealedSeq = head.seq();
        }
    }

    private static State readState(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT last_seq, last_hash, checkpoint_seq, checkpoint_at FROM audit_state WHERE id = 1")) {
            rs.next();
            OffsetDateTime at = rs.getObject(4, OffsetDateTime.class);
            return new State(rs.getLong(1), rs.getString(2), rs.getLong(3), at == null ? null : at.toInstant());
        }
    }

    private String hashOf(long seq) throws StoreException {
        return store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT hash FROM audit_records WHERE seq = ?")) {
                ps.setLong(1, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /** Signs a checkpoint at the current end of the log now, unless one is there already; returns its seq. */
    public long checkpointNow() throws StoreException {
        appendLock.lock();
        try {
            return store.inTransaction(c -> {
                State s = lockState(c);
                if (s.lastSeq == 0 || s.checkpointSeq == s.lastSeq) {
                    return s.checkpointSeq;
                }
                AuditCheckpoint cp = checkpoint(c, s.lastSeq, s.lastHash);
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE audit_state SET checkpoint_seq = ?, checkpoint_at = ? WHERE id = 1")) {
                    ps.setLong(1, cp.seq());
                    ps.setObject(2, OffsetDateTime.ofInstant(cp.signedAt(), ZoneOffset.UTC));
                    ps.executeUpdate();
                }
                return cp.seq();
            });
        } finally {
            appendLock.unlock();
        }
    }

    /** Verifies the whole log in the database with its checkpoints and the head file (streamed, any size). */
    public AuditVerification verify() throws StoreException, GatewayException {
        AuditCheckpoint head;
        try {
            head = readHead();
        } catch (GatewayException e) {
            return new AuditVerification(false, 0, e.getMessage(), 0, 0, 0, 0, 0, 0);
        }
        return store.inTransaction(c -> {
            Map<Long, AuditCheckpoint> cps = checkpoints(c, 0);
            long purgedBefore = lastPurgeCut(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, recorded_at, type, actor, subject, details, "
                    + "prev_hash, hash FROM audit_records ORDER BY seq")) {
                ps.setFetchSize(1000);
                try (ResultSet rs = ps.executeQuery()) {
                    return new AuditVerifier(root).verify(rows(rs), cps, head, true, AuditVerifier.Scope.WHOLE_LOG,
                            purgedBefore);
                }
            }
        });
    }

    /** Where the last audit purge cut the log (0 when none): only a hint for naming a problem's position. */
    private static long lastPurgeCut(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT details FROM audit_records WHERE type = ? "
                + "ORDER BY seq DESC LIMIT 1")) {
            ps.setString(1, AuditEvent.PURGE);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return 0;
                }
                try {
                    com.fasterxml.jackson.databind.JsonNode d = JSON.readTree(rs.getString(1));
                    return "audit".equals(d.path("class").asText()) ? d.path("before").asLong(0) : 0;
                } catch (IOException e) {
                    return 0;
                }
            }
        }
    }

    private static Map<Long, AuditCheckpoint> checkpoints(Connection c, long fromSeq) throws SQLException {
        Map<Long, AuditCheckpoint> cps = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, hash, signed_at, key_id, signature, certificates "
                + "FROM audit_checkpoints WHERE seq >= ? ORDER BY seq")) {
            ps.setLong(1, fromSeq);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cps.put(rs.getLong(1), new AuditCheckpoint(rs.getLong(1), rs.getString(2),
                            rs.getObject(3, OffsetDateTime.class).toInstant(), rs.getString(4), rs.getString(5),
                            rs.getString(6)));
                }
            }
        }
        return cps;
    }

    private static Iterator<AuditRecord> rows(ResultSet rs) {
        return new Iterator<>() {
            private AuditRecord next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next == null && !done) {
                    try {
                        if (rs.next()) {
                            next = new AuditRecord(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant(),
                                    rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                                    rs.getString(7), rs.getString(8));
                        } else {
                            done = true;
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException("cannot read audit records: " + e.getMessage(), e);
                    }
                }
                return next != null;
            }

            @Override
            public AuditRecord next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                AuditRecord r = next;
                next = null;
                return r;
            }
        };
    }

    /**
     * Writes records from {@code since} on as NDJSON (format in docs/audit.md): the signed checkpoint just before
     * the first record (the anchor a verifier starts from), the records and checkpoints in sequence order, and
     * the signed head last. Returns the number of records written.
     */
    public long export(Instant since, OutputStream out) throws StoreException, GatewayException, IOException {
        AuditCheckpoint head = readHead();
        long[] count = {0};
        store.inTransaction(c -> {
            long first;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT MIN(seq) FROM audit_records WHERE recorded_at >= ?")) {
                ps.setObject(1, OffsetDateTime.ofInstant(since, ZoneOffset.UTC));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    first = rs.getLong(1);
                    if (rs.wasNull()) {
                        first = Long.MAX_VALUE;
                    }
                }
            }
            java.util.TreeMap<Long, AuditCheckpoint> cps = new java.util.TreeMap<>(checkpoints(c, 0));
            // start right after a signed checkpoint, so that the slice is anchored by a signature
            Long anchor = first == Long.MAX_VALUE || first == 1 ? null : cps.floorKey(first - 1);
            long from = anchor == null ? first : anchor + 1;
            try {
                if (anchor != null) {
                    write(out, checkpointLine(cps.get(anchor)));
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT seq, recorded_at, type, actor, subject, "
                        + "details, prev_hash, hash FROM audit_records WHERE seq >= ? ORDER BY seq")) {
                    ps.setLong(1, from);
                    ps.setFetchSize(1000);
                    try (ResultSet rs = ps.executeQuery()) {
                        Iterator<AuditRecord> it = rows(rs);
                        while (it.hasNext()) {
                            AuditRecord r = it.next();
                            write(out, recordLine(r));
                            count[0]++;
                            AuditCheckpoint cp = cps.get(r.seq());
                            if (cp != null) {
                                write(out, checkpointLine(cp));
                            }
                        }
                    }
                }
                if (head != null) {
                    ObjectNode h = checkpointLine(head);
                    h.put("kind", "head");
                    write(out, h);
                }
            } catch (IOException e) {
                throw new SQLException("cannot write the export: " + e.getMessage(), e);
            }
            return null;
        });
        out.flush();
        return count[0];
    }

    private static void write(OutputStream out, ObjectNode line) throws IOException {
        out.write(JSON.writeValueAsString(line).getBytes(StandardCharsets.UTF_8));
        out.write('\n');
    }

    static ObjectNode recordLine(AuditRecord r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", "record");
        n.put("seq", r.seq());
        n.put("time", AuditRecord.formatTime(r.time()));
        n.put("type", r.type());
        n.put("actor", r.actor());
        n.put("subject", r.subject());
        n.put("details", r.details());
        n.put("prevHash", r.prevHash());
        n.put("hash", r.hash());
        return n;
    }

    static ObjectNode checkpointLine(AuditCheckpoint cp) {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", "checkpoint");
        n.put("seq", cp.seq());
        n.put("hash", cp.hash());
        n.put("signedAt", AuditRecord.formatTime(cp.signedAt()));
        n.put("keyId", cp.keyId());
        n.put("signature", cp.signature());
        n.put("certificates", cp.certificates());
        return n;
    }

    /** What {@link #purgeBefore} deleted. */
    public record PurgeReceipt(long from, long to, long count, String digest, long receiptSeq) {
    }

    /**
     * Deletes the records before {@code seq} (the oldest first), keeping the log verifiable: the records up to the
     * cut are verified first, a signed checkpoint is kept (or made) at {@code seq - 1}, older checkpoints go, and
     * a {@code purge} record (class audit, before, from, to, count, and the SHA-256 of the deleted records'
     * hashes, one per line) is appended — all in one transaction. The last record can never be purged.
     */
    public PurgeReceipt purgeBefore(long seq) throws StoreException, GatewayException {
        PurgeReceipt receipt;
        appendLock.lock();
        try {
            receipt = store.inTransaction(c -> {
                State s = lockState(c);
                long first;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT MIN(seq) FROM audit_records")) {
                    rs.next();
                    first = rs.getLong(1);
                }
                if (seq > s.lastSeq || seq < 1) {
                    throw new GatewayException(Reason.BAD_REQUEST, "cannot purge before record " + seq
                            + ": the log ends at record " + s.lastSeq + " and its last record is always kept");
                }
                if (seq <= first) {
                    return new PurgeReceipt(first, first - 1, 0, null, 0);
                }
                java.security.MessageDigest digest;
                try {
                    digest = java.security.MessageDigest.getInstance("SHA-256");
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
                String cutHash = null;
                long count = 0;
                Map<Long, AuditCheckpoint> cps = checkpoints(c, 0);
                try (PreparedStatement ps = c.prepareStatement("SELECT seq, recorded_at, type, actor, subject, "
                        + "details, prev_hash, hash FROM audit_records WHERE seq < ? ORDER BY seq")) {
                    ps.setLong(1, seq);
                    ps.setFetchSize(1000);
                    try (ResultSet rs = ps.executeQuery()) {
                        AuditRecord prev = null;
                        Iterator<AuditRecord> it = rows(rs);
                        while (it.hasNext()) {
                            AuditRecord r = it.next();
                            boolean linked = prev == null ? (r.seq() == 1 ? AuditRecord.GENESIS.equals(r.prevHash())
                                    : cps.containsKey(r.seq() - 1) && cps.get(r.seq() - 1).hash().equals(r.prevHash()))
                                    : prev.seq() + 1 == r.seq() && prev.hash().equals(r.prevHash());
                            if (!linked || !r.computedHash().equals(r.hash())) {
                                throw new GatewayException(Reason.CONFLICT, "refusing to purge: the audit log does "
                                        + "not verify at record " + r.seq() + " (run 'siteward audit verify')");
                            }
                            digest.update((r.hash() + "\n").getBytes(StandardCharsets.US_ASCII));
                            cutHash = r.hash();
                            prev = r;
                            count++;
                        }
                    }
                }
                if (!cps.containsKey(seq - 1)) {
                    checkpoint(c, seq - 1, cutHash);
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM audit_records WHERE seq < ?")) {
                    ps.setLong(1, seq);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM audit_checkpoints WHERE seq < ?")) {
                    ps.setLong(1, seq - 1);
                    ps.executeUpdate();
                }
                String hex = HexFormat.of().formatHex(digest.digest());
                Map<String, Object> d = new java.util.TreeMap<>();
                d.put("class", "audit");
                d.put("before", seq);
                d.put("from", first);
                d.put("to", seq - 1);
                d.put("count", count);
                d.put("digest", hex);
                AuditRecord r = AuditRecord.create(s.lastSeq + 1, clock.instant(), AuditEvent.PURGE,
                        AuditEvent.GATEWAY, "audit", details(new AuditEvent(AuditEvent.PURGE, null, null, d)),
                        s.lastHash);
                insert(c, r);
                updateState(c, r, s.checkpointSeq, s.checkpointAt);
                latestSeq = r.seq();
                latestHash = r.hash();
                return new PurgeReceipt(first, seq - 1, count, hex, r.seq());
            });
        } finally {
            appendLock.unlock();
        }
        if (receipt.receiptSeq() > 0) {
            seal(receipt.receiptSeq());
        }
        return receipt;
    }

    /** The time of the oldest record, or null for an empty log (for retention reports). */
    public Instant oldest() throws StoreException {
        return store.inTransaction(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT recorded_at FROM audit_records ORDER BY seq LIMIT 1")) {
                return rs.next() ? rs.getObject(1, OffsetDateTime.class).toInstant() : null;
            }
        });
    }

    public Path headFile() {
        return headFile;
    }

    /** Signs a final checkpoint when records were added since the last one; stops the head sink. */
    @Override
    public void close() {
        if (delayedSealer != null) {
            delayedSealer.shutdown();
            try {
                delayedSealer.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (key != null) {
                checkpointNow();
                long last;
                appendLock.lock();
                try {
                    last = latestSeq;
                } finally {
                    appendLock.unlock();
                }
                if (recovered && last > 0) {
                    seal(last);
                }
            }
        } catch (StoreException | RuntimeException e) {
            LOG.warn("no final audit checkpoint: {}", e.getMessage());
        }
        if (sink != null) {
            sink.close();
        }
    }

}
