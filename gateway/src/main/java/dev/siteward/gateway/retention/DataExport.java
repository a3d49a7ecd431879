package dev.siteward.gateway.retention;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.policies.retention.ClassRule;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.ExportRule;
import dev.siteward.policies.retention.RetentionRules;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Writes what the retention rules let leave the site, as NDJSON: for a class with export fields, one line per
 * record with only those fields (hashed fields as their keyed hash); for an aggregates-only class, one line per
 * device and window with the count, the bytes and, per exported numeric field, min, max and mean. A class without
 * an export rule is refused ({@code data.export_denied}).
 */
public final class DataExport {

    private static final int PAGE = 1000;

    private final GatewayStore store;
    private final Supplier<RetentionRules> rules;

    public DataExport(GatewayStore store, Supplier<RetentionRules> rules) {
        this.store = store;
        this.rules = rules;
    }

    /** The rule that allows exporting {@code classId}, or the refusal. */
    ExportRule allowed(String classId) throws GatewayException {
        DataClass c = DataClass.byId(classId).orElseThrow(() -> new GatewayException(Reason.DATA_CLASS_UNKNOWN,
                "unknown data class '" + classId + "'"));
        if (c == DataClass.AUDIT_RECORDS) {
            throw new GatewayException(Reason.DATA_EXPORT_DENIED, "audit records are exported with 'siteward audit "
                    + "export', which keeps them verifiable");
        }
        ExportRule rule = rules.get().rule(c).map(ClassRule::export).orElse(ExportRule.NONE);
        if (!rule.allowed()) {
            throw new GatewayException(Reason.DATA_EXPORT_DENIED, "the retention rules let nothing of class "
                    + classId + " leave the site");
        }
        return rule;
    }

    /** Writes the class's records received at or after {@code since}; returns the number of lines written. */
    public long export(String classId, Instant since, OutputStream out) throws GatewayException, StoreException,
            IOException {
        ExportRule rule = allowed(classId);
        Aggregator agg = rule.aggregatesOnly() ? new Aggregator(classId, rule) : null;
        long[] lines = {0};
        Instant afterTime = null;
        String afterId = "";
        try {
            while (true) {
                Instant at = afterTime;
                String aid = afterId;
                String[] last = store.inTransaction(conn -> {
                    String sql = "SELECT id, device, recorded_at, size_bytes, body FROM data_records WHERE "
                            + "data_class = ? AND recorded_at >= ?" + (at == null ? ""
                            : " AND recorded_at >= ? AND (recorded_at > ? OR id > ?)")
                            // the full index order, so H2 reads one page instead of sorting the rest each time
                            + " ORDER BY data_class, recorded_at, id LIMIT " + PAGE;
                    try (PreparedStatement ps = conn.prepareStatement(sql)) {
                        ps.setString(1, classId);
                        ps.setObject(2, OffsetDateTime.ofInstant(since, ZoneOffset.UTC));
                        if (at != null) {
                            ps.setObject(3, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
                            ps.setObject(4, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
                            ps.setString(5, aid);
                        }
                        String[] lastRow = null;
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                String id = rs.getString(1);
                                String device = rs.getString(2);
                                Instant t = RetentionPurge.instant(rs, 3);
                                long size = rs.getLong(4);
                                JsonNode body = DataClass.byId(classId).orElseThrow().raw() ? null
                                        : DataRecords.JSON.readTree(rs.getBytes(5));
                                if (agg != null) {
                                    agg.add(device, t, size, body);
                                } else {
                                    line(out, recordLine(classId, id, device, t, body, rule));
                                    lines[0]++;
                                }
                                lastRow = new String[] {t.toString(), id};
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        return lastRow;
                    }
                });
                if (last == null) {
                    break;
                }
                afterTime = Instant.parse(last[0]);
                afterId = last[1];
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (agg != null) {
            lines[0] += agg.writeTo(out);
        }
        out.flush();
        return lines[0];
    }

    private static ObjectNode recordLine(String classId, String id, String device, Instant t, JsonNode body,
                                         ExportRule rule) {
        ObjectNode n = DataRecords.JSON.createObjectNode();
        n.put("class", classId);
        n.put("id", id);
        n.put("device", device);
        n.put("time", t.toString());
        ObjectNode rec = n.putObject("record");
        if (body != null) {
            body.properties().forEach(e -> {
                if (rule.fields().contains(e.getKey())) {
                    rec.set(e.getKey(), e.getValue());
                }
            });
        }
        return n;
    }

    private static void line(OutputStream out, ObjectNode n) throws IOException {
        out.write((n.toString() + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Per device and window: count, bytes and numeric summaries of the exported fields. */
    private static final class Aggregator {
        private final String classId;
        private final ExportRule rule;
        private final long every;
        private final Map<String, Window> windows = new TreeMap<>();

        Aggregator(String classId, ExportRule rule) {
            this.classId = classId;
            this.rule = rule;
            this.every = rule.aggregateEvery().toMillis();
        }

        void add(String device, Instant t, long size, JsonNode body) {
            long start = Math.floorDiv(t.toEpochMilli(), every) * every;
            Window w = windows.computeIfAbsent(String.format("%020d/%s", start, device),
                    k -> new Window(device, start));
            w.count++;
            w.bytes += size;
            if (body != null) {
                body.properties().forEach(e -> {
                    if (rule.fields().contains(e.getKey()) && e.getValue().isNumber()) {
                        w.stats.computeIfAbsent(e.getKey(), k -> new double[] {Double.MAX_VALUE, -Double.MAX_VALUE,
                                0, 0});
                        double[] s = w.stats.get(e.getKey());
                        double v = e.getValue().asDouble();
                        s[0] = Math.min(s[0], v);
                        s[1] = Math.max(s[1], v);
                        s[2] += v;
                        s[3]++;
                    }
                });
            }
        }

        long writeTo(OutputStream out) throws IOException {
            for (Window w : windows.values()) {
                ObjectNode n = DataRecords.JSON.createObjectNode();
                n.put("class", classId);
                n.put("aggregate", true);
                n.put("device", w.device);
                n.put("from", Instant.ofEpochMilli(w.start).toString());
                n.put("to", Instant.ofEpochMilli(w.start + every).toString());
                n.put("count", w.count);
                n.put("bytes", w.bytes);
                ObjectNode f = n.putObject("fields");
                w.stats.forEach((k, s) -> {
                    ObjectNode o = f.putObject(k);
                    o.put("count", (long) s[3]);
                    o.put("min", s[0]);
                    o.put("max", s[1]);
                    o.put("mean", s[2] / s[3]);
                });
                line(out, n);
            }
            return windows.size();
        }

        private static final class Window {
            final String device;
            final long start;
            long count;
            long bytes;
            final Map<String, double[]> stats = new TreeMap<>();

            Window(String device, long start) {
                this.device = device;
                this.start = start;
            }
        }
    }
}
