package dev.siteward.gateway.admins;

import java.time.Instant;

/**
 * One admin as the admins table records them.
 *
 * @param name      the admin's name, as in {@code spiffe://<td>/admin/<name>}
 * @param role      the role they hold ({@link AdminRole#text()})
 * @param status    {@code active} or {@code revoked}
 * @param serial    their current certificate's serial (hex)
 * @param notAfter  when that certificate expires
 * @param createdAt when the admin was added
 * @param createdBy who added them (an admin's name, or {@code local:<user>} for the CLI on the data dir)
 * @param renewedAt when their certificate was last renewed, or null
 * @param revokedAt when they were revoked, or null
 */
public record Admin(String name, String role, String status, String serial, Instant notAfter, Instant createdAt,
                    String createdBy, Instant renewedAt, Instant revokedAt) {

    public static final String ACTIVE = "active";
    public static final String REVOKED = "revoked";

    public boolean active() {
        return ACTIVE.equals(status);
    }
}
