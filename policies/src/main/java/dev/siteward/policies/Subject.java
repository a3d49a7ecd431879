package dev.siteward.policies;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who asks: identity, kind, roles, labels and the notBefore of the certificate they authenticated with.
 *
 * @param id                   device id, admin name or service name
 * @param kind                 device, admin or service
 * @param roles                roles held (any kind may hold roles)
 * @param labels               labels of the subject (used by {@code deviceLabels} for devices)
 * @param certificateNotBefore notBefore of the subject's certificate, or {@code null} when unknown; an unknown
 *                             value never satisfies {@code certificateMaxAge}
 */
public record Subject(String id, SubjectKind kind, Set<String> roles, Map<String, String> labels,
                      Instant certificateNotBefore) {

    /** Checks required fields and copies roles and labels ({@code null} becomes empty). */
    public Subject {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        roles = roles == null ? Set.of() : Set.copyOf(roles);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** Returns a device subject with the given labels and no roles. */
    public static Subject device(String id, Map<String, String> labels, Instant certificateNotBefore) {
        return new Subject(id, SubjectKind.DEVICE, Set.of(), labels, certificateNotBefore);
    }

    /** Returns an admin subject with the given roles. */
    public static Subject admin(String name, Set<String> roles, Instant certificateNotBefore) {
        return new Subject(name, SubjectKind.ADMIN, roles, Map.of(), certificateNotBefore);
    }

    /** Renders e.g. {@code device 'valve-ctl-01'}. */
    public String describe() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " '" + id + "'";
    }
}
