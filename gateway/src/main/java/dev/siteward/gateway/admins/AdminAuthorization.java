package dev.siteward.gateway.admins;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.CertificateRegistry;
import dev.siteward.pki.ca.RegistryEntry;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * The role check of every admin API call, made by the request filter after the client certificate passed its
 * per-request status check (so a revoked admin certificate never gets here). The role is the one the CA registry
 * recorded for the presented certificate at issuance — it cannot be claimed, only issued — and the
 * {@link AdminRouteTable} decides whether it may make the call.
 */
public final class AdminAuthorization {

    /** Request attribute holding the caller's {@link AdminRole} once authorized (for auditing). */
    public static final String ROLE = "siteward.admin-role";

    private final CertificateRegistry registry;
    private final AdminRouteTable table;

    public AdminAuthorization(CertificateRegistry registry, AdminRouteTable table) {
        this.registry = registry;
        this.table = table;
    }

    /** True when the call is one this check governs: the admin API, or an admin asking for a device action. */
    public static boolean governs(SpiffeId caller, String path) {
        return path.equals("/v1/admin") || path.startsWith("/v1/admin/")
                || (caller.kind() == SpiffeId.Kind.ADMIN && path.startsWith("/v1/actions"));
    }

    /**
     * Checks the call; returns the caller's role, or empty when the call is not governed here.
     *
     * @param path    the decoded request path (what the router routes)
     * @param rawPath the path as sent
     *
     * @throws GatewayException {@code auth.forbidden} for a non-admin caller of the admin API or a role the route
     *                          does not allow
     */
    public Optional<AdminRole> authorize(SpiffeId caller, X509Certificate leaf, String method, String path,
                                         String rawPath) throws GatewayException {
        if (!governs(caller, path) && !governs(caller, rawPath)) {
            return Optional.empty();
        }
        if (caller.kind() != SpiffeId.Kind.ADMIN) {
            throw new GatewayException(Reason.FORBIDDEN, "admin API: an admin certificate is required");
        }
        if (!path.equals(rawPath)) {
            // the route table matches what the router routes; an encoded spelling could route elsewhere
            throw new GatewayException(Reason.FORBIDDEN, "admin API paths must not contain encoded characters");
        }
        Optional<AdminRole> role = roleOf(leaf);
        table.authorize(role, method, rawPath);
        return role;
    }

    /** The role recorded for this certificate at issuance, if it is a known one. */
    public Optional<AdminRole> roleOf(X509Certificate leaf) {
        return registry.find(leaf.getSerialNumber()).map(RegistryEntry::role).flatMap(AdminRole::find);
    }
}
