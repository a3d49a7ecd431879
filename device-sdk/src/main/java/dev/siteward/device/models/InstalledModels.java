package dev.siteward.device.models;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The install state of every model on the device, committed as one file ({@code models/state.json}): per model the
 * A/B slots, which one is active, and the last result; and the withdrawals the device has seen.
 */
public record InstalledModels(Map<String, ModelSlots> models, Map<String, WithdrawnVersions> withdrawn) {

    public InstalledModels {
        models = Map.copyOf(models);
        withdrawn = Map.copyOf(withdrawn);
    }

    public static final InstalledModels EMPTY = new InstalledModels(Map.of(), Map.of());

    /**
     * One installed version in a slot.
     *
     * @param healthFailed the version failed the application's health check here: it is not tried again
     */
    public record Slot(long version, String signatureSha256, Instant installedAt, boolean singleFile,
            boolean healthFailed) {
        Slot failed() {
            return new Slot(version, signatureSha256, installedAt, singleFile, true);
        }
    }

    /** The outcome of the last fetch of a model: a report result, its code and message. */
    public record LastResult(String result, Long version, String code, String message, Instant at) {
    }

    /**
     * A model's slots.
     *
     * @param active the active slot ({@code a} or {@code b}), or null when none is installed
     * @param slots  slot name to what it holds
     */
    public record ModelSlots(String active, Map<String, Slot> slots, LastResult last) {
        public ModelSlots {
            slots = Map.copyOf(slots);
        }

        public static final ModelSlots NONE = new ModelSlots(null, Map.of(), null);

        public Slot activeSlot() {
            return active == null ? null : slots.get(active);
        }

        /** The slot that is not active: where the next version goes. */
        public String inactive() {
            return "a".equals(active) ? "b" : "a";
        }

        public Slot previous() {
            return slots.get(inactive());
        }

        public ModelSlots withLast(LastResult result) {
            return new ModelSlots(active, slots, result);
        }

        ModelSlots with(String slot, Slot value, String newActive) {
            Map<String, Slot> m = new TreeMap<>(slots);
            if (value == null) {
                m.remove(slot);
            } else {
                m.put(slot, value);
            }
            return new ModelSlots(newActive, m, last);
        }
    }

    public ModelSlots model(String name) {
        return models.getOrDefault(name, ModelSlots.NONE);
    }

    InstalledModels with(String name, ModelSlots slots) {
        Map<String, ModelSlots> m = new TreeMap<>(models);
        m.put(name, slots);
        return new InstalledModels(m, withdrawn);
    }

    InstalledModels withWithdrawn(Map<String, WithdrawnVersions> w) {
        return new InstalledModels(models, w);
    }
}
