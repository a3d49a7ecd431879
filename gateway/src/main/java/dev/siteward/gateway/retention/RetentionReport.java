package dev.siteward.gateway.retention;

import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.policies.retention.ClassRule;
import dev.siteward.policies.retention.DataClass;
import dev.siteward.policies.retention.LegalHold;
import dev.siteward.policies.retention.RetentionRules;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** Per class: records, bytes, oldest record, the rule, when the next purge is due, the holds, the last purge. */
public final class RetentionReport {

    /** One hold as reported. */
    public record Hold(String id, String reason) {
    }

    /**
     * One class. {@code nextPurge} is when its oldest record becomes due (now when it is over its size cap; null
     * when nothing will expire); a hold may still keep that record.
     */
    public record ClassReport(String dataClass, boolean retained, long records, long bytes, Instant oldest,
                              String maxAge, Long maxBytes, Instant nextPurge, List<Hold> holds, Instant lastPurge,
                              long lastPurgeDeleted, boolean purgeUnfinished) {
    }

    /** The report: the classes, and whether deleting is paused and why. */
    public record Report(Instant at, String purgePaused, List<ClassReport> classes) {
    }

    private final GatewayStore store;
    private final Supplier<RetentionRules> rules;
    private final RetentionPurge.ClockTrust trust;
    private final Clock clock;

    public RetentionReport(GatewayStore store, Supplier<RetentionRules> rules, RetentionPurge.ClockTrust trust,
                           Clock clock) {
        this.store = store;
        this.rules = rules;
        this.trust = trust;
        this.clock = clock;
    }

    public Report report() throws StoreException {
        Instant now = clock.instant();
        RetentionRules r = rules.get();
        List<ClassReport> out = new ArrayList<>();
        for (DataClass c : DataClass.values()) {
            long[] counts = new long[2];
            Instant[] oldest = new Instant[1];
            Instant[] last = new Instant[1];
            long[] lastDeleted = new long[1];
            boolean[] unfinished = new boolean[1];
            store.inTransaction(conn -> {
                if (c == DataClass.AUDIT_RECORDS) {
                    try (PreparedStatement ps = conn.prepareStatement("SELECT COUNT(*), "
                            + "COALESCE(SUM(LENGTH(details)), 0), MIN(recorded_at) FROM audit_records");
                         ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        counts[0] = rs.getLong(1);
                        counts[1] = rs.getLong(2);
                        oldest[0] = RetentionPurge.instant(rs, 3);
                    }
                } else {
                    RetentionPurge.Totals t = RetentionPurge.totals(conn, c);
                    counts[0] = t.records();
                    counts[1] = t.bytes();
                    oldest[0] = t.oldest();
                }
                try (PreparedStatement ps = conn.prepareStatement("SELECT finished_at, deleted FROM retention_purges "
                        + "WHERE data_class = ? ORDER BY started_at DESC LIMIT 1")) {
                    ps.setString(1, c.id());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            last[0] = RetentionPurge.instant(rs, 1);
                            lastDeleted[0] = rs.getLong(2);
                            unfinished[0] = last[0] == null;
                        }
                    }
                }
                return null;
            });
            Optional<ClassRule> rule = r.rule(c);
            Instant next = null;
            if (rule.isPresent() && oldest[0] != null) {
                if (rule.get().maxBytes() != null && counts[1] > rule.get().maxBytes()) {
                    next = now;
                } else if (rule.get().maxAge() != null) {
                    Instant due = oldest[0].plus(rule.get().maxAge());
                    next = due.isBefore(now) ? now : due;
                }
            }
            List<Hold> holds = r.holds(c).stream().map((LegalHold h) -> new Hold(h.id(), h.reason())).toList();
            out.add(new ClassReport(c.id(), rule.isPresent(), counts[0], counts[1], oldest[0],
                    rule.map(x -> x.maxAge() == null ? null : x.maxAge().toString()).orElse(null),
                    rule.map(ClassRule::maxBytes).orElse(null), next, holds, last[0], lastDeleted[0],
                    unfinished[0]));
        }
        return new Report(now, trust.refusal().orElse(null), out);
    }
}
