package dev.siteward.gateway.admins;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What an admin may do. Each admin holds one role, bound to their certificate at issuance (the CA registry records
 * it) and listed in the admins table; {@link AdminRouteTable} says which roles each admin route needs.
 */
public enum AdminRole {
    /** Devices, enrollment tokens, model rollouts and releases, device actions. */
    OPERATOR("operator"),
    /** Policy bundles, revocation, the CA (CRLs, rotation, issuance), publishers, audit export, the clock. */
    SECURITY("security"),
    /** Publishes signed models to the repository; never signs them. */
    PUBLISHER_ADMIN("publisher-admin"),
    /** Read-only: every GET of the admin API. */
    AUDITOR("auditor"),
    /**
     * The first admin, created at the gateway's first start in {@code <data-dir>/admin/}: holds every role and is the
     * only one who adds, renews and revokes admins. Exactly one exists per site and it cannot be given to anyone.
     */
    BOOTSTRAP("bootstrap");

    private final String text;

    AdminRole(String text) {
        this.text = text;
    }

    /** The role's name as the CLI, the API and the certificate registry spell it. */
    public String text() {
        return text;
    }

    /** The roles this role acts as: bootstrap acts as every role, any other role only as itself. */
    public Set<AdminRole> effective() {
        return this == BOOTSTRAP ? EnumSet.allOf(AdminRole.class) : EnumSet.of(this);
    }

    /** The role of that name, or empty for null or an unknown name (which then grants nothing). */
    public static Optional<AdminRole> find(String text) {
        if (text == null) {
            return Optional.empty();
        }
        for (AdminRole r : values()) {
            if (r.text.equals(text.toLowerCase(Locale.ROOT))) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** Parses a role a person can be given ({@code bootstrap} is not one); the message lists the choices. */
    public static AdminRole parseAssignable(String text) {
        return find(text).filter(r -> r != BOOTSTRAP).orElseThrow(() -> new IllegalArgumentException(
                "invalid role '" + text + "': use operator, security, publisher-admin or auditor"));
    }

    @Override
    public String toString() {
        return text;
    }
}
