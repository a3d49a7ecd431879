package dev.siteward.policies;

import java.util.Map;
import java.util.Objects;

/**
 * What is acted on: an actuator (or camera, conveyor...) id, its zone and its labels.
 *
 * @param id     resource id, e.g. {@code valve-07}
 * @param zone   zone id, or {@code null} when the resource has none
 * @param labels labels of the resource
 */
public record Resource(String id, String zone, Map<String, String> labels) {

    /** Checks the id and copies the labels ({@code null} becomes empty). */
    public Resource {
        Objects.requireNonNull(id, "id");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** Renders e.g. {@code 'valve-07' in zone 'hall-a'}. */
    public String describe() {
        return zone == null ? "'" + id + "'" : "'" + id + "' in zone '" + zone + "'";
    }
}
