package dev.siteward.policies.retention;

import dev.siteward.policies.SourceLocation;
import java.time.Duration;
import java.util.Set;

/**
 * The retention rule of one data class.
 *
 * @param fields      the record fields the class may carry (empty for blobs); a record with any other field is
 *                    refused at ingest
 * @param maxAge      records older than this are purged; null keeps them regardless of age
 * @param maxBytes    the total size kept; beyond it the oldest records are purged first; null for no cap
 * @param maxItemBytes the largest single record or blob accepted; null for the gateway's own limit
 * @param drop        fields removed before anything is written
 * @param hash        fields replaced by a keyed hash (HMAC-SHA256 with the gateway's key) before anything is written
 * @param export      what may leave the site
 * @param location    where the rule is written, for messages
 */
public record ClassRule(DataClass dataClass, Set<String> fields, Duration maxAge, Long maxBytes, Long maxItemBytes,
                        Set<String> drop, Set<String> hash, ExportRule export, SourceLocation location) {

    public ClassRule {
        fields = Set.copyOf(fields);
        drop = Set.copyOf(drop);
        hash = Set.copyOf(hash);
    }
}
