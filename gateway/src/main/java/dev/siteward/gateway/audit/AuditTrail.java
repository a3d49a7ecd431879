package dev.siteward.gateway.audit;

/**
 * Where services report auditable events. {@link AuditLog} is the real one; {@link #NONE} records nothing (tests
 * and tools that run without a gateway database). {@link #record} never throws: the action it reports has
 * already happened, so a failure to record it is logged as an error rather than failing the caller.
 */
@FunctionalInterface
public interface AuditTrail {

    AuditTrail NONE = event -> { };

    void record(AuditEvent event);
}
