package dev.siteward.gateway.time;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The latest time the gateway has seen, kept in {@code <data-dir>/gateway/time.json} (written atomically):
 * {@code {"latest": "<instant>", "acceptedAt": "<instant>|null", "acceptedFrom": "<instant>|null",
 * "acceptedBy": "<name>|null"}}. The accepted fields record the last time an operator confirmed a clock earlier
 * than {@code latest}.
 *
 * @param latest       the latest time recorded
 * @param acceptedAt   when an operator last confirmed an earlier clock, or null
 * @param acceptedFrom the recorded time they overrode, or null
 * @param acceptedBy   who confirmed it, or null
 */
public record TimeRecord(Instant latest, Instant acceptedAt, Instant acceptedFrom, String acceptedBy) {

    /** The file's path in the data dir. */
    public static final String FILE = "gateway/time.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The record in the data dir, or null when none was written yet (a new site). */
    public static TimeRecord read(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            return new TimeRecord(instant(n, "latest"), instant(n, "acceptedAt"), instant(n, "acceptedFrom"),
                    n.path("acceptedBy").isTextual() ? n.get("acceptedBy").asText() : null);
        } catch (IOException | DateTimeParseException e) {
            throw new IOException(file + " is unreadable (" + e.getMessage() + "); it records the latest time the "
                    + "gateway saw: restore it from a backup, or remove it and run 'siteward time accept'", e);
        }
    }

    /** Writes the record atomically (write, fsync, rename). */
    public void write(Path dataDir) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("latest", latest.toString());
        n.put("acceptedAt", acceptedAt == null ? null : acceptedAt.toString());
        n.put("acceptedFrom", acceptedFrom == null ? null : acceptedFrom.toString());
        n.put("acceptedBy", acceptedBy);
        Path file = dataDir.resolve(FILE);
        SecureFiles.createPrivateDirectory(file.getParent());
        SecureFiles.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n", false);
    }

    public TimeRecord withLatest(Instant t) {
        return new TimeRecord(t, acceptedAt, acceptedFrom, acceptedBy);
    }

    private static Instant instant(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (field.equals("latest")) {
                throw new DateTimeParseException("no latest time", "", 0);
            }
            return null;
        }
        return Instant.parse(v.asText());
    }
}
