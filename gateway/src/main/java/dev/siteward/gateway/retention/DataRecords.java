package dev.siteward.gateway.retention;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.policies.retention.ClassRule;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.RetentionRules;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Ingest of device data under the active retention rules: the class must have a rule (deny by default), each JSON
 * record may carry only the fields its class declares, dropped and hashed fields are minimised in memory, and only
 * then are the records written, all of one request in one transaction.
 */
public final class DataRecords {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The most records one request may carry. */
    public static final int MAX_RECORDS_PER_REQUEST = 10_000;

    /** What was stored. */
    public record Ingested(List<String> ids, long bytes, Instant at) {
    }

    private final GatewayStore store;
    private final Supplier<RetentionRules> rules;
    private final MinimisationKey key;
    private final Clock clock;
    private final RetentionSettings settings;

    public DataRecords(GatewayStore store, Supplier<RetentionRules> rules, MinimisationKey key, Clock clock,
                       RetentionSettings settings) {
        this.store = store;
        this.rules = rules;
        this.key = key;
        this.clock = clock;
        this.settings = settings;
    }

    /** The class named in a route, which must exist and have a rule in the active bundle. */
    ClassRule ruleFor(String classId) throws GatewayException {
        DataClass c = DataClass.byId(classId).orElseThrow(() -> new GatewayException(Reason.DATA_CLASS_UNKNOWN,
                "unknown data class '" + classId + "'"));
        return rules.get().rule(c).orElseThrow(() -> new GatewayException(Reason.DATA_NOT_RETAINED,
                "the active policy bundle has no retention rule for class " + c.id() + ": nothing of it is stored"));
    }

    /**
     * Stores JSON records: one object, or an array of objects. Every record is checked and minimised before any is
     * written; one bad record refuses the whole request.
     */
    public Ingested ingestRecords(String classId, String device, byte[] body) throws GatewayException,
            StoreException {
        ClassRule rule = ruleFor(classId);
        if (rule.dataClass().raw()) {
            throw new GatewayException(Reason.UNSUPPORTED_MEDIA_TYPE, "class " + classId
                    + " takes raw bodies (e.g. image/jpeg or application/octet-stream), not JSON records");
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new GatewayException(Reason.BAD_REQUEST, "the body is not JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new GatewayException(Reason.BAD_REQUEST, "the body cannot be read: " + e.getMessage());
        }
        List<JsonNode> items = new ArrayList<>();
        if (root != null && root.isArray()) {
            root.forEach(items::add);
        } else if (root != null) {
            items.add(root);
        }
        if (items.isEmpty()) {
            throw new GatewayException(Reason.BAD_REQUEST, "no records: send a JSON object or an array of objects");
        }
        if (items.size() > MAX_RECORDS_PER_REQUEST) {
            throw new GatewayException(Reason.TOO_LARGE, "at most " + MAX_RECORDS_PER_REQUEST
                    + " records per request");
        }
        List<byte[]> bodies = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            if (!items.get(i).isObject()) {
                throw new GatewayException(Reason.BAD_REQUEST, "record " + i + " is not a JSON object");
            }
            ObjectNode min;
            try {
                min = Minimiser.apply(rule, (ObjectNode) items.get(i), key);
            } catch (GatewayException e) {
                throw new GatewayException(e.reason(), (items.size() > 1 ? "record " + i + ": " : "")
                        + e.getMessage());
            }
            byte[] bytes = min.toString().getBytes(StandardCharsets.UTF_8);
            long limit = rule.maxItemBytes() != null ? rule.maxItemBytes() : settings.maxRecordBytes();
            if (bytes.length > limit) {
                throw new GatewayException(Reason.TOO_LARGE, "record " + i + " is " + bytes.length
                        + " bytes; class " + classId + " accepts at most " + limit);
            }
            bodies.add(bytes);
        }
        return write(rule.dataClass(), device, "application/json", bodies);
    }

    /** Stores one blob (an image, a file) held in memory, up to the class's or the gateway's blob size limit. */
    public Ingested ingestBlob(String classId, String device, String contentType, byte[] body)
            throws GatewayException, StoreException {
        return ingestBlob(classId, device, contentType, new ByteArrayInputStream(body), body.length);
    }

    /**
     * Stores one blob streamed from a request body, up to the class's or the gateway's blob size limit
     * ({@code 413 data.too_large} beyond it, nothing stored). With a declared length ({@code Content-Length}) the
     * body is refused before it is read when too large, and is otherwise streamed into the store in one transaction;
     * a body that ends short of its declared length stores nothing. Without one (chunked), at most
     * {@link #MAX_UNDECLARED_BLOB} bytes are read: the device's upload quota charges an undeclared body that much.
     */
    public Ingested ingestBlob(String classId, String device, String contentType, InputStream body, long length)
            throws GatewayException, StoreException {
        ClassRule rule = ruleFor(classId);
        if (!rule.dataClass().raw()) {
            throw new GatewayException(Reason.UNSUPPORTED_MEDIA_TYPE, "class " + classId
                    + " takes JSON records (Content-Type: application/json)");
        }
        long limit = maxBlobBytes(rule);
        if (length > limit) {
            throw new GatewayException(Reason.DATA_TOO_LARGE, "the blob is " + length + " bytes; class " + classId
                    + " accepts at most " + limit);
        }
        String type = contentType == null || contentType.isBlank() ? "application/octet-stream"
                : contentType.length() > 128 ? contentType.substring(0, 128) : contentType;
        if (length < 0) {
            long undeclared = Math.min(limit, MAX_UNDECLARED_BLOB);
            byte[] bytes;
            try {
                bytes = body.readNBytes((int) undeclared + 1);
            } catch (IOException e) {
                throw new GatewayException(Reason.BAD_REQUEST, "the body cannot be read: " + e.getMessage());
            }
            if (bytes.length > undeclared) {
                throw new GatewayException(Reason.DATA_TOO_LARGE, "a blob sent without Content-Length may be at "
                        + "most " + undeclared + " bytes" + (limit > undeclared ? "; send Content-Length for larger "
                        + "blobs (class " + classId + " accepts up to " + limit + ")" : ""));
            }
            if (bytes.length == 0) {
                throw new GatewayException(Reason.BAD_REQUEST, "empty blob");
            }
            return write(rule.dataClass(), device, type, List.of(bytes));
        }
        if (length == 0) {
            throw new GatewayException(Reason.BAD_REQUEST, "empty blob");
        }
        return writeStream(rule.dataClass(), device, type, body, length);
    }

    /** A body of unknown length (chunked) is read up to this many bytes (what the upload quota charged for it). */
    public static final long MAX_UNDECLARED_BLOB = 1L << 20;

    private Ingested writeStream(DataClass c, String device, String contentType, InputStream body, long length)
            throws GatewayException, StoreException {
        Instant now = clock.instant();
        String id = newId(now);
        long[] read = new long[1];
        InputStream counted = new java.io.FilterInputStream(body) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    read[0]++;
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, (int) Math.min(len, Math.max(1, length - read[0])));
                if (n > 0) {
                    read[0] += n;
                }
                return n;
            }
        };
        try {
            store.inTransaction(conn -> {
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO data_records (id, data_class, "
                        + "device, recorded_at, size_bytes, content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                    ps.setString(1, id);
                    ps.setString(2, c.id());
                    ps.setString(3, device);
                    ps.setObject(4, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                    ps.setLong(5, length);
                    ps.setString(6, contentType);
                    ps.setBinaryStream(7, counted, length);
                    ps.executeUpdate();
                }
                if (read[0] != length) {
                    // rolls the insert back
                    throw new GatewayException(Reason.BAD_REQUEST, "the body ended after " + read[0]
                            + " of its declared " + length + " bytes; nothing was stored");
                }
                return null;
            });
        } catch (StoreException e) {
            if (read[0] != length) {
                throw new GatewayException(Reason.BAD_REQUEST, "the body ended after " + read[0] + " of its "
                        + "declared " + length + " bytes; nothing was stored");
            }
            throw e;
        }
        return new Ingested(List.of(id), length, now);
    }

    /** A record the gateway produced itself (an inference reading or result) for a device. */
    public record Generated(DataClass dataClass, String device, ObjectNode record) {
    }

    /** What {@link #storeGenerated} did with a batch. */
    public record GeneratedStored(Map<DataClass, Integer> stored, Map<DataClass, Integer> skipped) {
    }

    /** Whether the active bundle has a rule for the class (deny by default: without one nothing of it is stored). */
    public boolean retains(DataClass c) {
        return rules.get().rule(c).isPresent();
    }

    /**
     * Stores records the gateway produced, all in one transaction. Each keeps only the fields its class's rule
     * declares (the others are never written), is then minimised like a device's record (dropped and hashed fields),
     * and must fit the class's record size limit. A record of a class without a rule, with none of its fields
     * declared, or too large is skipped (counted in the answer), never stored in part.
     */
    public GeneratedStored storeGenerated(List<Generated> records) throws StoreException {
        RetentionRules active = rules.get();
        Map<DataClass, Integer> stored = new EnumMap<>(DataClass.class);
        Map<DataClass, Integer> skipped = new EnumMap<>(DataClass.class);
        List<Row> rows = new ArrayList<>(records.size());
        for (Generated g : records) {
            ClassRule rule = active.rule(g.dataClass()).orElse(null);
            byte[] bytes = null;
            if (rule != null && !g.dataClass().raw()) {
                ObjectNode declared = g.record().objectNode();
                g.record().fields().forEachRemaining(e -> {
                    if (rule.fields().contains(e.getKey())) {
                        declared.set(e.getKey(), e.getValue());
                    }
                });
                if (!declared.isEmpty()) {
                    try {
                        bytes = Minimiser.apply(rule, declared, key).toString().getBytes(StandardCharsets.UTF_8);
                    } catch (GatewayException e) {
                        bytes = null;
                    }
                    long limit = rule.maxItemBytes() != null ? rule.maxItemBytes() : settings.maxRecordBytes();
                    if (bytes != null && bytes.length > limit) {
                        bytes = null;
                    }
                }
            }
            if (bytes == null) {
                skipped.merge(g.dataClass(), 1, Integer::sum);
            } else {
                rows.add(new Row(g.dataClass(), g.device(), "application/json", bytes));
                stored.merge(g.dataClass(), 1, Integer::sum);
            }
        }
        if (!rows.isEmpty()) {
            writeRows(rows, clock.instant());
        }
        return new GeneratedStored(stored, skipped);
    }

    private record Row(DataClass dataClass, String device, String contentType, byte[] body) {
    }

    private void writeRows(List<Row> rows, Instant now) throws StoreException {
        store.inTransaction(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO data_records (id, data_class, device, "
                    + "recorded_at, size_bytes, content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                OffsetDateTime t = OffsetDateTime.ofInstant(now, ZoneOffset.UTC);
                for (Row r : rows) {
                    ps.setString(1, newId(now));
                    ps.setString(2, r.dataClass().id());
                    ps.setString(3, r.device());
                    ps.setObject(4, t);
                    ps.setLong(5, r.body().length);
                    ps.setString(6, r.contentType());
                    ps.setBytes(7, r.body());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** The largest blob the class accepts: its rule's maxBlobSize, capped by siteward.retention.max-blob-size. */
    long maxBlobBytes(ClassRule rule) {
        return rule.maxItemBytes() == null ? settings.maxBlobBytes()
                : Math.min(rule.maxItemBytes(), settings.maxBlobBytes());
    }

    private Ingested write(DataClass c, String device, String contentType, List<byte[]> bodies)
            throws StoreException {
        Instant now = clock.instant();
        List<String> ids = new ArrayList<>(bodies.size());
        long total = 0;
        for (byte[] b : bodies) {
            ids.add(newId(now));
            total += b.length;
        }
        long bytes = total;
        store.inTransaction(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO data_records (id, data_class, device, "
                    + "recorded_at, size_bytes, content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                OffsetDateTime t = OffsetDateTime.ofInstant(now, ZoneOffset.UTC);
                for (int i = 0; i < bodies.size(); i++) {
                    ps.setString(1, ids.get(i));
                    ps.setString(2, c.id());
                    ps.setString(3, device);
                    ps.setObject(4, t);
                    ps.setLong(5, bodies.get(i).length);
                    ps.setString(6, contentType);
                    ps.setBytes(7, bodies.get(i));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
        return new Ingested(ids, bytes, now);
    }

    /**
     * A record id: 32 hex digits, the receipt time in milliseconds since the epoch (12 digits) and then 80 random
     * bits. Ids of records received together sit together in the primary-key index, so ingest appends near its end and
     * a purge, walking oldest first, deletes from its start: on H2 each commit rewrites a few index pages instead of
     * one page per record (docs/benchmarks.md, "Retention"). No sequence, so several gateways may share a store.
     */
    static String newId(Instant at) {
        byte[] b = new byte[10];
        RANDOM.nextBytes(b);
        return String.format(java.util.Locale.ROOT, "%012x", Math.max(0, at.toEpochMilli()) & 0xFFFF_FFFF_FFFFL)
                + HexFormat.of().formatHex(b);
    }
}
