package dev.siteward.gateway.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an audit export (NDJSON written by {@link AuditLog#export}) and verifies it with the site root alone:
 * every record's hash and link, the signed checkpoint it starts from, the checkpoints inside it and its head.
 */
public final class AuditExport {

    private AuditExport() {
    }

    /** Verifies an export; a malformed line is reported as a problem at that line's record, never thrown. */
    public static AuditVerification verify(InputStream in, X509Certificate root) throws IOException {
        List<AuditRecord> records = new ArrayList<>();
        Map<Long, AuditCheckpoint> checkpoints = new LinkedHashMap<>();
        AuditCheckpoint head = null;
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode j = AuditLog.JSON.readTree(line);
                switch (j.path("kind").asText()) {
                    case "record" -> records.add(new AuditRecord(j.get("seq").asLong(),
                            Instant.parse(j.get("time").asText()), j.get("type").asText(), j.get("actor").asText(),
                            j.get("subject").asText(), j.get("details").asText(), j.get("prevHash").asText(),
                            j.get("hash").asText()));
                    case "checkpoint" -> checkpoints.put(j.get("seq").asLong(), checkpoint(j));
                    case "head" -> head = checkpoint(j);
                    default -> throw new IllegalArgumentException("unknown kind '" + j.path("kind").asText() + "'");
                }
            } catch (IOException | RuntimeException e) {
                return new AuditVerification(false, 0, "line " + n + " of the export is malformed: "
                        + e.getMessage(), 0, 0, 0, 0, 0, 0);
            }
        }
        return new AuditVerifier(root).verify(records.iterator(), checkpoints, head, false,
                AuditVerifier.Scope.SLICE, 0);
    }

    private static AuditCheckpoint checkpoint(JsonNode j) {
        return new AuditCheckpoint(j.get("seq").asLong(), j.get("hash").asText(),
                Instant.parse(j.get("signedAt").asText()), j.get("keyId").asText(), j.get("signature").asText(),
                j.get("certificates").asText());
    }
}
