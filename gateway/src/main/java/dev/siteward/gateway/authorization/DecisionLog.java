package dev.siteward.gateway.authorization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.policies.AccessRequest;
import dev.siteward.policies.Effect;
import dev.siteward.policies.RequestContext;
import dev.siteward.policies.Resource;
import dev.siteward.policies.Subject;
import dev.siteward.policies.SubjectKind;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The decision log (table {@code policy_decisions}, migration {@code V2__decisions.sql}): every decision with its full
 * request, the bundle version and digest it was made with, the deciding rules and the result.
 */
public final class DecisionLog {

    /** Replays read at most this many decisions. */
    public static final int MAX_READ = 100_000;

    /**
     * One recorded decision.
     *
     * @param id            decision id
     * @param at            when
     * @param request       the request decided
     * @param effect        allow or deny
     * @param ruleIds       deciding rules
     * @param reason        the reason given
     * @param bundleVersion bundle version (0: none)
     * @param bundleDigest  bundle digest, or null
     * @param dryRun        an admin's dry run
     * @param requestedBy   the caller's identity
     * @param grantId       the grant issued, or null
     */
    public record Entry(String id, Instant at, AccessRequest request, Effect effect, List<String> ruleIds,
                        String reason, long bundleVersion, String bundleDigest, boolean dryRun, String requestedBy,
                        String grantId) {
    }

    private final GatewayStore store;

    public DecisionLog(GatewayStore store) {
        this.store = store;
    }

    /** Records one decision in its own transaction. */
    public void record(Entry e) throws StoreException {
        store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO policy_decisions (id, decided_at, "
                    + "subject_kind, subject_id, subject_roles, subject_labels, certificate_not_before, action, "
                    + "resource_id, resource_zone, resource_labels, site_mode, bundle_version, bundle_digest, "
                    + "rule_ids, effect, reason, dry_run, requested_by, grant_id) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                AccessRequest r = e.request();
                ps.setString(1, e.id());
                ps.setObject(2, OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC));
                ps.setString(3, r.subject().kind().name().toLowerCase(Locale.ROOT));
                ps.setString(4, r.subject().id());
                ps.setString(5, json(r.subject().roles().stream().sorted().toList()));
                ps.setString(6, json(new java.util.TreeMap<>(r.subject().labels())));
                if (r.subject().certificateNotBefore() == null) {
                    ps.setNull(7, Types.TIMESTAMP_WITH_TIMEZONE);
                } else {
                    ps.setObject(7, OffsetDateTime.ofInstant(r.subject().certificateNotBefore(), ZoneOffset.UTC));
                }
                ps.setString(8, r.action());
                ps.setString(9, r.resource().id());
                ps.setString(10, r.resource().zone());
                ps.setString(11, json(new java.util.TreeMap<>(r.resource().labels())));
                ps.setString(12, r.context().siteMode());
                if (e.bundleVersion() > 0) {
                    ps.setLong(13, e.bundleVersion());
                } else {
                    ps.setNull(13, Types.BIGINT);
                }
                ps.setString(14, e.bundleDigest());
                ps.setString(15, json(e.ruleIds()));
                ps.setString(16, e.effect().yamlName());
                ps.setString(17, clip(e.reason(), 4000));
                ps.setBoolean(18, e.dryRun());
                ps.setString(19, e.requestedBy());
                ps.setString(20, e.grantId());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Live (not dry-run) decisions made at or after {@code from}, oldest first, at most {@link #MAX_READ}. */
    public List<Entry> since(Instant from) throws StoreException {
        return store.inTransaction(c -> {
            List<Entry> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM policy_decisions WHERE decided_at >= ? "
                    + "AND dry_run = FALSE ORDER BY decided_at, id")) {
                ps.setObject(1, OffsetDateTime.ofInstant(from, ZoneOffset.UTC));
                ps.setMaxRows(MAX_READ);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                }
            }
            return out;
        });
    }

    /** Counts recorded decisions (all kinds). */
    public long count() throws StoreException {
        return store.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM policy_decisions");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private static Entry read(ResultSet rs) throws SQLException {
        Instant nb = instant(rs, "certificate_not_before");
        Subject subject = new Subject(rs.getString("subject_id"), SubjectKind.valueOf(rs.getString("subject_kind")
                .toUpperCase(Locale.ROOT)), Set.copyOf(list(rs.getString("subject_roles"))),
                map(rs.getString("subject_labels")), nb);
        Resource resource = new Resource(rs.getString("resource_id"), rs.getString("resource_zone"),
                map(rs.getString("resource_labels")));
        AccessRequest request = new AccessRequest(subject, rs.getString("action"), resource,
                new RequestContext(rs.getString("site_mode")));
        long version = rs.getLong("bundle_version");
        return new Entry(rs.getString("id"), instant(rs, "decided_at"), request,
                "allow".equals(rs.getString("effect")) ? Effect.ALLOW : Effect.DENY, list(rs.getString("rule_ids")),
                rs.getString("reason"), rs.wasNull() ? 0 : version, rs.getString("bundle_digest"),
                rs.getBoolean("dry_run"), rs.getString("requested_by"), rs.getString("grant_id"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static String json(Object o) {
        try {
            return PolicyService.JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> list(String json) throws SQLException {
        try {
            return PolicyService.JSON.readValue(json, new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new SQLException("bad JSON list in the decision log", e);
        }
    }

    private static Map<String, String> map(String json) throws SQLException {
        try {
            return PolicyService.JSON.readValue(json, new TypeReference<Map<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new SQLException("bad JSON map in the decision log", e);
        }
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
