package dev.siteward.device.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.time.Instant;

/** Strict field readers for the signed documents: a missing or mistyped field is an {@link IllegalArgumentException}. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new IllegalArgumentException("missing or empty text field '" + field + "'");
        }
        return v.asText();
    }

    static long positiveLong(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw new IllegalArgumentException("missing or invalid number field '" + field + "'");
        }
        return v.asLong();
    }

    static Instant instant(JsonNode n, String field) {
        try {
            return Instant.parse(text(n, field));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("field '" + field + "' is not an RFC 3339 UTC time");
        }
    }

    static Iterable<JsonNode> array(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isArray()) {
            throw new IllegalArgumentException("missing array field '" + field + "'");
        }
        return v;
    }

    static String sha256Hex(JsonNode n, String field) {
        String s = text(n, field);
        if (!s.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("field '" + field + "' is not a lower-case hex SHA-256");
        }
        return s;
    }
}
