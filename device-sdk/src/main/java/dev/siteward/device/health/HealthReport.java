package dev.siteward.device.health;

import dev.siteward.device.DeviceException;
import dev.siteward.device.models.InstalledModels;
import dev.siteward.device.models.ModelStore;
import dev.siteward.pki.modelsig.ModelNames;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * One heartbeat (docs/model-releases.md, {@code POST /v1/devices/heartbeat}): when it was taken, uptime, inference
 * counts since start, latency percentiles in milliseconds (null when unknown) and the model versions running.
 */
public record HealthReport(Instant sentAt, long uptimeSeconds, long inferences, long inferenceErrors, Double p50,
                           Double p95, Double p99, Map<String, Long> models) {

    public HealthReport {
        if (sentAt == null) {
            throw new IllegalArgumentException("sentAt is required");
        }
        if (uptimeSeconds < 0 || inferences < 0 || inferenceErrors < 0) {
            throw new IllegalArgumentException("uptime and counts must not be negative");
        }
        if (inferenceErrors > inferences) {
            throw new IllegalArgumentException("inference errors cannot exceed inferences");
        }
        for (Double d : new Double[] {p50, p95, p99}) {
            if (d != null && !(d >= 0 && d < 3.6e6)) {
                throw new IllegalArgumentException("latency percentiles must be milliseconds between 0 and one hour");
            }
        }
        models = models == null ? Map.of() : Map.copyOf(new TreeMap<>(models));
        if (models.size() > 64) {
            throw new IllegalArgumentException("at most 64 models");
        }
        for (Map.Entry<String, Long> e : models.entrySet()) {
            if (!ModelNames.isValid(e.getKey()) || e.getValue() == null || e.getValue() < 0) {
                throw new IllegalArgumentException("model " + e.getKey() + " needs a valid name and version");
            }
        }
    }

    /** The versions of the models active in the device's A/B slots now. */
    public static Map<String, Long> runningModels(ModelStore store) throws DeviceException {
        InstalledModels installed = store.load();
        Map<String, Long> out = new TreeMap<>();
        installed.models().forEach((name, slots) -> {
            InstalledModels.Slot active = slots.activeSlot();
            if (active != null) {
                out.put(name, active.version());
            }
        });
        return out;
    }
}
