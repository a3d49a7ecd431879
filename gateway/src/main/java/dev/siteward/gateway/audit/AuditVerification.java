package dev.siteward.gateway.audit;

/**
 * The outcome of verifying an audit log: either intact ({@code problem} null) with a one-line summary, or the
 * first problem found and the sequence number where it is ({@code position}, 0 when it concerns no one record,
 * e.g. a missing head file).
 */
public record AuditVerification(boolean intact, long position, String problem, long firstSeq, long lastSeq,
                                long records, long checkpoints, long headSeq, long recoveries) {

    public String summary() {
        if (!intact) {
            return problem;
        }
        if (records == 0) {
            return "audit log intact: no records";
        }
        return "audit log intact: records " + firstSeq + ".." + lastSeq + " (" + records + "), " + checkpoints
                + " signed checkpoint" + (checkpoints == 1 ? "" : "s") + ", signed head at " + headSeq
                + (recoveries == 0 ? "" : ", " + recoveries + " start-up recover" + (recoveries == 1 ? "y" : "ies")
                + " on record (type audit_recovery)");
    }
}
