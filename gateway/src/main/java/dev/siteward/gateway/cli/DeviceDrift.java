package dev.siteward.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Input drift for {@code siteward device list}: read from the running gateway ({@code GET /v1/admin/fleet/drift});
 * drift is live state of shared inference, so with the gateway stopped there is none to show.
 */
final class DeviceDrift {

    private DeviceDrift() {
    }

    /**
     * Drifting devices: device id to its drifting models ({@code {"model","version","feature","psi","since"}});
     * empty when the gateway is stopped or does not answer.
     */
    static Map<String, List<JsonNode>> drifting(DataDir dataDir) {
        Map<String, List<JsonNode>> out = new LinkedHashMap<>();
        DataDir.Lock lock = DataDir.lockUnlessRemote(dataDir);
        if (lock != null) {
            lock.close();
            return out;
        }
        JsonNode body;
        try {
            RemoteOperations remote = RemoteOperations.connect(dataDir);
            HttpResponse<String> r = remote.client().send(HttpRequest.newBuilder(remote.base().resolve("fleet/drift"))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return out;
            }
            body = DeviceCommand.JSON.readTree(r.body());
        } catch (Exception e) {
            return out;
        }
        for (JsonNode d : body.path("devices")) {
            if (!d.path("drifting").asBoolean()) {
                continue;
            }
            com.fasterxml.jackson.databind.node.ObjectNode m = DeviceCommand.JSON.createObjectNode();
            m.set("model", d.get("model"));
            m.set("version", d.get("version"));
            m.set("feature", d.get("feature"));
            m.set("psi", d.get("psi"));
            m.set("since", d.get("since"));
            out.computeIfAbsent(d.path("device").asText(), k -> new ArrayList<>()).add(m);
        }
        return out;
    }

    /** The DRIFT column: {@code team/name feature F PSI P} per drifting model, or {@code -}. */
    static String text(List<JsonNode> drifting) {
        if (drifting.isEmpty()) {
            return "-";
        }
        List<String> parts = new ArrayList<>();
        for (JsonNode d : drifting) {
            parts.add(d.path("model").asText() + " feature " + d.path("feature").asText() + " PSI "
                    + String.format(Locale.ROOT, "%.2f", d.path("psi").asDouble()));
        }
        return String.join("; ", parts);
    }
}
