package dev.siteward.gateway.admins;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which roles may call which admin route: an ordered list of rules (method class, path pattern, roles), the first
 * matching rule wins, and a path no rule matches is refused for every admin (deny by default). Routes are matched by
 * family prefix, so a route added later under a known family ({@code /v1/admin/models/...}) is covered at once; a
 * new family needs a rule here before anyone can call it.
 *
 * <p>Patterns are {@code /}-separated: a literal segment, {@code *} for one segment, {@code **} for any number of
 * segments (also none), and a segment ending in {@code *} for a prefix ({@code policy*}). Paths are matched raw
 * (undecoded); a path with an encoded slash, dot or backslash, a dot segment or an empty segment is refused, so
 * no spelling of a path reaches a route under a rule other than its own.
 */
public final class AdminRouteTable {

    /** Which HTTP methods a rule covers: reads are GET and HEAD, writes everything else. */
    public enum Methods {
        READ, WRITE, ANY;

        boolean covers(String method) {
            boolean read = method.equals("GET") || method.equals("HEAD");
            return this == ANY || (this == READ) == read;
        }
    }

    /** One row of the table. */
    public record Rule(Methods methods, String pattern, Set<AdminRole> roles) {
        public Rule {
            roles = Collections.unmodifiableSet(EnumSet.copyOf(roles));
        }
    }

    private static final Set<AdminRole> EVERY_ROLE = EnumSet.of(AdminRole.OPERATOR, AdminRole.SECURITY,
            AdminRole.PUBLISHER_ADMIN, AdminRole.AUDITOR);

    private final List<Rule> rules;

    public AdminRouteTable(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** The site's table; docs/operations.md lists the same rows. */
    public static AdminRouteTable standard() {
        List<Rule> r = new ArrayList<>();
        // audit log: reading is for security and auditors, exporting and anything else for security
        r.add(rule(Methods.READ, "/v1/admin/audit/**", AdminRole.SECURITY, AdminRole.AUDITOR));
        r.add(rule(Methods.WRITE, "/v1/admin/audit/**", AdminRole.SECURITY));
        // admins: everyone may see who holds which role; only the bootstrap admin changes it
        r.add(new Rule(Methods.READ, "/v1/admin/admins/**", EVERY_ROLE));
        r.add(rule(Methods.WRITE, "/v1/admin/admins/**", AdminRole.BOOTSTRAP));
        r.add(rule(Methods.WRITE, "/v1/admin/tokens/**", AdminRole.OPERATOR));
        r.add(new Rule(Methods.READ, "/v1/admin/tokens/**", EVERY_ROLE));
        r.add(rule(Methods.WRITE, "/v1/admin/devices/*/revoke", AdminRole.SECURITY));
        r.add(rule(Methods.WRITE, "/v1/admin/devices/**", AdminRole.OPERATOR));
        r.add(new Rule(Methods.READ, "/v1/admin/devices/**", EVERY_ROLE));
        // certificates: revocation and issuance are security's (issuing an admin certificate needs the bootstrap
        // admin on top, checked where the profile is known)
        r.add(rule(Methods.WRITE, "/v1/admin/certificates/**", AdminRole.SECURITY));
        r.add(rule(Methods.READ, "/v1/admin/certificates/**", AdminRole.SECURITY, AdminRole.AUDITOR));
        r.add(rule(Methods.WRITE, "/v1/admin/crl/**", AdminRole.SECURITY));
        r.add(rule(Methods.READ, "/v1/admin/crl/**", AdminRole.SECURITY, AdminRole.AUDITOR));
        r.add(rule(Methods.WRITE, "/v1/admin/ca/**", AdminRole.SECURITY));
        r.add(rule(Methods.READ, "/v1/admin/ca/**", AdminRole.SECURITY, AdminRole.AUDITOR));
        // models: publishing is the publisher admin's, pointing a channel at a version (release, rollout) the
        // operator's
        r.add(rule(Methods.WRITE, "/v1/admin/models/**/release", AdminRole.OPERATOR));
        r.add(rule(Methods.WRITE, "/v1/admin/models/**/rollout*", AdminRole.OPERATOR));
        r.add(rule(Methods.WRITE, "/v1/admin/models/**", AdminRole.PUBLISHER_ADMIN));
        r.add(new Rule(Methods.READ, "/v1/admin/models/**", EVERY_ROLE));
        r.add(rule(Methods.WRITE, "/v1/admin/rollouts/**", AdminRole.OPERATOR));
        r.add(new Rule(Methods.READ, "/v1/admin/rollouts/**", EVERY_ROLE));
        r.add(new Rule(Methods.READ, "/v1/admin/fleet/**", EVERY_ROLE));
        r.add(rule(Methods.WRITE, "/v1/admin/publishers/**", AdminRole.SECURITY));
        r.add(new Rule(Methods.READ, "/v1/admin/publishers/**", EVERY_ROLE));
        r.add(rule(Methods.WRITE, "/v1/admin/policy*/**", AdminRole.SECURITY));
        r.add(new Rule(Methods.READ, "/v1/admin/policy*/**", EVERY_ROLE));
        r.add(rule(Methods.WRITE, "/v1/admin/policies/**", AdminRole.SECURITY));
        r.add(new Rule(Methods.READ, "/v1/admin/policies/**", EVERY_ROLE));
        // collected data and its retention: exports and purges are security's, reading security's and auditors'
        r.add(rule(Methods.WRITE, "/v1/admin/data/**", AdminRole.SECURITY));
        r.add(rule(Methods.READ, "/v1/admin/data/**", AdminRole.SECURITY, AdminRole.AUDITOR));
        r.add(rule(Methods.WRITE, "/v1/admin/retention/**", AdminRole.SECURITY));
        r.add(rule(Methods.READ, "/v1/admin/retention/**", AdminRole.SECURITY, AdminRole.AUDITOR));
        r.add(rule(Methods.WRITE, "/v1/admin/mqtt/**", AdminRole.SECURITY));
        r.add(new Rule(Methods.READ, "/v1/admin/mqtt/**", EVERY_ROLE));
        r.add(new Rule(Methods.READ, "/v1/admin/status/**", EVERY_ROLE));
        // a backup holds everything the site has: the bootstrap admin's alone
        r.add(rule(Methods.ANY, "/v1/admin/backup/**", AdminRole.BOOTSTRAP));
        // the trusted clock: accepting a clock earlier than the last recorded time is security's
        r.add(rule(Methods.WRITE, "/v1/admin/time/**", AdminRole.SECURITY));
        r.add(new Rule(Methods.READ, "/v1/admin/time/**", EVERY_ROLE));
        // an admin asking for a policy decision on a device action acts as an operator
        r.add(rule(Methods.ANY, "/v1/actions/**", AdminRole.OPERATOR));
        return new AdminRouteTable(r);
    }

    private static Rule rule(Methods methods, String pattern, AdminRole first, AdminRole... more) {
        return new Rule(methods, pattern, EnumSet.of(first, more));
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The first rule for this method and raw path, or empty when none matches or the path is malformed. */
    public Optional<Rule> match(String method, String rawPath) {
        String m = method.toUpperCase(Locale.ROOT);
        String[] segments = segments(rawPath);
        if (segments == null) {
            return Optional.empty();
        }
        for (Rule rule : rules) {
            if (rule.methods().covers(m) && matches(rule.pattern().substring(1).split("/"), 0, segments, 0)) {
                return Optional.of(rule);
            }
        }
        return Optional.empty();
    }

    /**
     * Refuses the call unless {@code role} may make it: {@code auth.forbidden} naming the roles the route needs, or
     * saying that no role may call an unknown route.
     */
    public void authorize(Optional<AdminRole> role, String method, String rawPath) throws GatewayException {
        String call = method.toUpperCase(Locale.ROOT) + " " + rawPath;
        Optional<Rule> rule = match(method, rawPath);
        if (rule.isEmpty()) {
            throw new GatewayException(Reason.FORBIDDEN, call + " is not an admin route any role may call");
        }
        if (role.isEmpty()) {
            throw new GatewayException(Reason.FORBIDDEN, call + " requires role " + names(rule.get().roles())
                    + "; this admin certificate carries no known role");
        }
        for (AdminRole acting : role.get().effective()) {
            if (rule.get().roles().contains(acting)) {
                return;
            }
        }
        throw new GatewayException(Reason.FORBIDDEN, call + " requires role " + names(rule.get().roles())
                + "; this admin has role " + role.get().text());
    }

    static String names(Set<AdminRole> roles) {
        return roles.stream().map(AdminRole::text).collect(Collectors.joining(" or "));
    }

    /** The path's segments, or null when it is not a plain path (encoded separators, dot or empty segments). */
    static String[] segments(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            return null;
        }
        String lower = rawPath.toLowerCase(Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%2e") || lower.contains("%5c") || lower.contains("\\")
                || lower.contains(";")) {
            return null;
        }
        String p = rawPath.length() > 1 && rawPath.endsWith("/") ? rawPath.substring(0, rawPath.length() - 1) : rawPath;
        String[] parts = p.substring(1).split("/", -1);
        for (String s : parts) {
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                return null;
            }
        }
        return parts;
    }

    private static boolean matches(String[] pattern, int pi, String[] path, int si) {
        if (pi == pattern.length) {
            return si == path.length;
        }
        String p = pattern[pi];
        if (p.equals("**")) {
            for (int k = si; k <= path.length; k++) {
                if (matches(pattern, pi + 1, path, k)) {
                    return true;
                }
            }
            return false;
        }
        if (si == path.length) {
            return false;
        }
        boolean segment = p.equals("*") || p.equals(path[si])
                || (p.endsWith("*") && path[si].startsWith(p.substring(0, p.length() - 1)));
        return segment && matches(pattern, pi + 1, path, si + 1);
    }
}
