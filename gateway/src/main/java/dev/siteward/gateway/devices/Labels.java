package dev.siteward.gateway.devices;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Device labels: {@code key=value} pairs. Keys {@code [a-z0-9][a-z0-9._-]{0,62}}; values up to 128 characters of
 * {@code [A-Za-z0-9._:/-]}. {@code class} and {@code channel} are reserved for model releases.
 */
public final class Labels {

    private static final Pattern KEY = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._:/-]{0,128}");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Most labels a device may carry. */
    public static final int MAX_LABELS = 32;

    private Labels() {
    }

    /** Parses {@code k=v,k2=v2}; an empty or null text gives no labels. */
    public static Map<String, String> parse(String text) {
        Map<String, String> out = new TreeMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String pair : text.split(",")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("invalid label '" + pair + "': expected key=value");
            }
            out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return validate(out);
    }

    public static Map<String, String> validate(Map<String, String> labels) {
        if (labels.size() > MAX_LABELS) {
            throw new IllegalArgumentException("too many labels (at most " + MAX_LABELS + ")");
        }
        for (var e : labels.entrySet()) {
            if (!KEY.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("invalid label key '" + e.getKey() + "'");
            }
            if (e.getValue() == null || !VALUE.matcher(e.getValue()).matches()) {
                throw new IllegalArgumentException("invalid value for label '" + e.getKey() + "'");
            }
        }
        return new TreeMap<>(labels);
    }

    public static String toJson(Map<String, String> labels) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(labels));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Map<String, String> fromJson(String json) {
        try {
            return JSON.readValue(json, new TypeReference<TreeMap<String, String>>() { });
        } catch (IOException e) {
            throw new IllegalStateException("corrupt labels in the database", e);
        }
    }
}
