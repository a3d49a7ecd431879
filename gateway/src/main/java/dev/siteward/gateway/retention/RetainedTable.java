package dev.siteward.gateway.retention;

import dev.siteward.policies.retention.DataClass;
import java.util.List;

/**
 * A table whose rows one data class's retention rule governs, and how a purge reads them: each row's id, device,
 * time and size. Device data lives in {@code data_records} (one class per row); the gateway's own action decisions
 * live in {@code policy_decisions} (migration {@code V2__decisions.sql}) and are governed by {@code action-decisions}.
 *
 * <p>A purge walks a table oldest first by {@code (time, id)}; each table has an index that delivers rows in that
 * order ({@code data_records_class_time}, {@code policy_decisions_time_id}), and every query names the full index
 * order so that H2, too, reads only the page it needs instead of sorting everything that remains.
 *
 * @param table       the table
 * @param classColumn the column holding the class, or null when every row is of the class
 * @param timeColumn  the record's time (retention ages from it)
 * @param deviceColumn the device (or other subject) the record is about, for holds by device and label
 * @param sizeSql     the record's size in bytes, as an SQL expression
 */
record RetainedTable(String table, String classColumn, String timeColumn, String deviceColumn, String sizeSql) {

    static final RetainedTable DATA_RECORDS = new RetainedTable("data_records", "data_class", "recorded_at", "device",
            "size_bytes");

    /** Action decisions: the size is the length of the decision's text columns (its request, rules and reason). */
    static final RetainedTable DECISIONS = new RetainedTable("policy_decisions", null, "decided_at", "subject_id",
            "(LENGTH(subject_id) + LENGTH(subject_roles) + LENGTH(subject_labels) + LENGTH(action) "
                    + "+ LENGTH(resource_id) + COALESCE(LENGTH(resource_zone), 0) + LENGTH(resource_labels) "
                    + "+ LENGTH(rule_ids) + LENGTH(reason) + LENGTH(requested_by))");

    /** The tables holding records of a class (audit records are kept by the audit log, not here). */
    static List<RetainedTable> of(DataClass c) {
        return c == DataClass.ACTION_DECISIONS ? List.of(DATA_RECORDS, DECISIONS) : List.of(DATA_RECORDS);
    }

    /** {@code WHERE} for the class: its first parameter is the class id when the table has a class column. */
    String classFilter() {
        return classColumn == null ? "1 = 1" : classColumn + " = ?";
    }

    /** {@code ORDER BY} in full index order (with the class column first where there is one). */
    String walkOrder() {
        return (classColumn == null ? "" : classColumn + ", ") + timeColumn + ", id";
    }

    boolean hasClass() {
        return classColumn != null;
    }
}
