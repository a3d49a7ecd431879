package dev.siteward.gateway.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.security.cert.X509Certificate;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Checks an audit log against itself, its signed checkpoints and its signed head, trusting only the site root:
 * every record's hash, every link to the previous record, contiguous sequence numbers, checkpoint and head
 * signatures, and that the log neither lost its tail (the head or a checkpoint names a later record) nor its
 * beginning (a log not starting at 1 must start right after a signed checkpoint, at the cut of the last recorded
 * purge). Reports the first problem by position. Pure logic over the given data: no I/O.
 */
public final class AuditVerifier {

    /** Whether the records are the whole log (from the database) or a slice of it (an export). */
    public enum Scope { WHOLE_LOG, SLICE }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MOVE_SEARCH = 64;

    private final X509Certificate root;

    public AuditVerifier(X509Certificate root) {
        this.root = root;
    }

    /**
     * Verifies records (ascending by seq) with the checkpoints and the head (null when there is no head file;
     * {@code headRequired} says whether that is a problem). {@code purgedBefore}, where the last audit purge cut
     * the log (0: none or unknown), only helps name the position of records removed from the beginning.
     */
    public AuditVerification verify(Iterator<AuditRecord> records, Map<Long, AuditCheckpoint> checkpoints,
                                    AuditCheckpoint head, boolean headRequired, Scope scope, long purgedBefore) {
        NavigableMap<Long, AuditCheckpoint> cps = new TreeMap<>(checkpoints);
        for (AuditCheckpoint cp : cps.values()) {
            String p = cp.problem(AuditCheckpoint.CHECKPOINT, root);
            if (p != null) {
                return fail(cp.seq(), "checkpoint at record " + cp.seq() + " is not valid: " + p);
            }
        }
        if (head != null) {
            String p = head.problem(AuditCheckpoint.HEAD, root);
            if (p != null) {
                return fail(0, "the head file is not valid: " + p);
            }
        }
        AuditRecord prev = null;
        long first = 0;
        long count = 0;
        long lastPurgeBefore = 0;
        long recoveries = 0;
        String headRecordHash = null;
        while (records.hasNext()) {
            AuditRecord r = records.next();
            if (prev == null) {
                first = r.seq();
                if (r.seq() != 1) {
                    AuditCheckpoint anchor = cps.get(r.seq() - 1);
                    if (anchor == null) {
                        long from = purgedBefore > 0 && purgedBefore < r.seq() ? purgedBefore : 1;
                        return scope == Scope.WHOLE_LOG
                                ? fail(from, range(from, r.seq() - 1) + " removed: the log starts at record " + r.seq()
                                        + " with no signed checkpoint at " + (r.seq() - 1))
                                : fail(r.seq(), "the records do not start at a signed checkpoint (none at record "
                                        + (r.seq() - 1) + ")");
                    }
                    if (!anchor.hash().equals(r.prevHash()) && r.computedHash().equals(r.hash())) {
                        return fail(r.seq(), "record " + r.seq() + " does not follow the signed checkpoint at "
                                + (r.seq() - 1) + " (records before it removed, changed or reordered)");
                    }
                }
            }
            if (!r.computedHash().equals(r.hash())) {
                for (long k = Math.max(1, r.seq() - MOVE_SEARCH); k <= r.seq() + MOVE_SEARCH; k++) {
                    if (k != r.seq() && r.computedHashAt(k).equals(r.hash())) {
                        return fail(r.seq(), "record " + r.seq() + " is out of place: it holds record " + k
                                + " (records removed or reordered)");
                    }
                }
                return fail(r.seq(), "record " + r.seq() + " changed: its content does not match its hash");
            }
            if (prev != null) {
                if (r.seq() <= prev.seq()) {
                    return fail(r.seq(), "record " + r.seq() + " is out of order (after record " + prev.seq() + ")");
                }
                if (r.seq() > prev.seq() + 1) {
                    return fail(prev.seq() + 1, range(prev.seq() + 1, r.seq() - 1) + " removed");
                }
                if (!r.prevHash().equals(prev.hash())) {
                    return fail(prev.seq(), "record " + prev.seq() + " changed: record " + r.seq()
                            + " no longer links to it");
                }
            } else if (r.seq() == 1 && !AuditRecord.GENESIS.equals(r.prevHash())) {
                return fail(1, "record 1 changed: it does not start the chain");
            }
            AuditCheckpoint cp = cps.get(r.seq());
            if (cp != null && !cp.hash().equals(r.hash())) {
                return fail(r.seq(), "record " + r.seq() + " changed: it does not match the signed checkpoint at "
                        + r.seq() + " (records up to it were rewritten)");
            }
            if (head != null && head.seq() == r.seq()) {
                headRecordHash = r.hash();
            }
            if (AuditEvent.PURGE.equals(r.type())) {
                JsonNode d = parse(r.details());
                if ("audit".equals(d.path("class").asText()) && d.has("before")) {
                    lastPurgeBefore = d.get("before").asLong();
                }
            }
            if (AuditEvent.AUDIT_RECOVERY.equals(r.type())) {
                recoveries++;
            }
            prev = r;
            count++;
        }
        long last = prev == null ? (first == 0 ? 0 : first) : prev.seq();
        if (scope == Scope.WHOLE_LOG && first > 1 && lastPurgeBefore != first) {
            long from = lastPurgeBefore == 0 ? 1 : lastPurgeBefore;
            if (from < first) {
                return fail(from, range(from, first - 1) + " removed: "
                        + (lastPurgeBefore == 0 ? "no purge is on record" : "the last recorded purge kept record "
                        + lastPurgeBefore));
            }
            return fail(first, "record " + first + " starts the log, but the last recorded purge kept from record "
                    + lastPurgeBefore);
        }
        if (!cps.isEmpty() && cps.lastKey() > last && (scope == Scope.WHOLE_LOG || count == 0)) {
            return fail(last + 1, "tail missing: " + range(last + 1, cps.lastKey())
                    + " removed (a signed checkpoint names record " + cps.lastKey() + ")");
        }
        if (scope == Scope.SLICE && count == 0) {
            return new AuditVerification(true, 0, null, 0, 0, 0, cps.size(), head == null ? 0 : head.seq(), 0);
        }
        if (head == null) {
            if (headRequired && count > 0) {
                return fail(0, "the head file is missing: the end of the log cannot be checked");
            }
        } else {
            if (head.seq() > last) {
                return fail(last + 1, "tail missing: " + range(last + 1, head.seq())
                        + " removed (the signed head file names record " + head.seq() + ")");
            }
            if (headRecordHash != null && !headRecordHash.equals(head.hash())) {
                return fail(head.seq(), "record " + head.seq() + " changed: it does not match the signed head file");
            }
            if (scope == Scope.WHOLE_LOG && head.seq() < last) {
                return fail(head.seq() + 1, range(head.seq() + 1, last) + " not covered by the signed head file "
                        + "(the head file is older than the log: replaced by an old copy, or the gateway stopped "
                        + "before sealing them; starting the gateway re-seals and records it)");
            }
        }
        return new AuditVerification(true, 0, null, first, last, count, cps.size(),
                head == null ? 0 : head.seq(), recoveries);
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    static String range(long from, long to) {
        return from == to ? "record " + from : "records " + from + ".." + to;
    }

    private static AuditVerification fail(long position, String problem) {
        return new AuditVerification(false, position, problem, 0, 0, 0, 0, 0, 0);
    }
}
