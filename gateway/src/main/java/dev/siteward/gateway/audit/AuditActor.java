package dev.siteward.gateway.audit;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * Who is acting, for services that record audit events without being told: inside the gateway, the authenticated
 * caller of the current request ({@code admin/<name>}, {@code device/<id>}) or {@code gateway}; in a CLI command
 * working on the data dir directly, {@code local/<os user>}.
 */
public final class AuditActor {

    private static volatile Supplier<Optional<String>> requestIdentity = Optional::empty;
    private static volatile String fallback = "local/" + System.getProperty("user.name", "unknown");

    private AuditActor() {
    }

    /** Installed once by the gateway: the current request's identity, and {@code gateway} outside requests. */
    public static void useRequestIdentity(Supplier<Optional<String>> identity) {
        requestIdentity = identity;
        fallback = AuditEvent.GATEWAY;
    }

    public static String current() {
        try {
            return requestIdentity.get().orElse(fallback);
        } catch (RuntimeException e) {
            return fallback;
        }
    }
}
