package dev.siteward.policies.retention;

import dev.siteward.policies.SourceLocation;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A legal hold: records it matches are not deleted, whatever their age or the size caps. Every selector given must
 * match (an empty one matches everything): the classes, the device ids, the device's labels, and the record time
 * within {@code [since, until)}.
 */
public record LegalHold(String id, String reason, Set<DataClass> classes, Set<String> devices,
                        Map<String, String> deviceLabels, Instant since, Instant until, SourceLocation location) {

    public LegalHold {
        classes = Set.copyOf(classes);
        devices = Set.copyOf(devices);
        deviceLabels = Map.copyOf(deviceLabels);
    }

    /** True when the hold applies to this class at all. */
    public boolean covers(DataClass c) {
        return classes.isEmpty() || classes.contains(c);
    }

    /** True when the device (with these labels) is selected; labels may be empty for an unknown device. */
    public boolean coversDevice(String device, Map<String, String> labels) {
        if (!devices.isEmpty() && !devices.contains(device)) {
            return false;
        }
        for (Map.Entry<String, String> e : deviceLabels.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** True when a record of this time is in the hold's time range. */
    public boolean coversTime(Instant t) {
        return (since == null || !t.isBefore(since)) && (until == null || t.isBefore(until));
    }

    /** True when the record is held. */
    public boolean holds(DataClass c, String device, Map<String, String> labels, Instant time) {
        return covers(c) && coversDevice(device, labels) && coversTime(time);
    }
}
