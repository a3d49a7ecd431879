package dev.siteward.device;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The gateway's answer to {@code GET /v1/whoami}: who this device is by its certificate. */
public record Whoami(String id, String kind, String spiffeId, Map<String, String> labels, String status,
        String serial, Instant certificateExpires) {

    static Whoami parse(JsonNode n) {
        Map<String, String> labels = new LinkedHashMap<>();
        n.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        String expires = n.path("certificateExpires").asText(null);
        return new Whoami(n.path("id").asText(null), n.path("kind").asText(null), n.path("spiffeId").asText(null),
                Map.copyOf(labels), n.path("status").asText(null), n.path("serial").asText(null),
                expires == null ? null : Instant.parse(expires));
    }
}
