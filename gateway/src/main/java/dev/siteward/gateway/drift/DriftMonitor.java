package dev.siteward.gateway.drift;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Input drift per model and device: each device's last {@link Settings#window()} readings of a model are binned
 * against the model's signed reference statistics ({@link DriftReference}) and compared by the population stability
 * index per feature. A device drifts on a model when, after at least {@link Settings#minimum()} readings, some
 * feature's PSI reaches {@link Settings#threshold()}; the flag clears when every feature falls below
 * {@link Settings#clearBelow()} (hysteresis, so a device near the threshold does not flap). A device that sent no
 * reading of a model for {@link #IDLE_AFTER} (revoked, removed, or silent) is dropped from the figures and its window
 * forgotten. State lives in memory: a gateway restart starts every window empty.
 */
public final class DriftMonitor {

    private static final Logger LOG = LoggerFactory.getLogger(DriftMonitor.class);

    /** A device's window of a model is forgotten when it sent no reading of that model for this long. */
    public static final java.time.Duration IDLE_AFTER = java.time.Duration.ofMinutes(15);

    /**
     * Window length, readings needed before judging, the PSI that flags drift and the PSI under which it clears.
     * The defaults follow the common reading of PSI: below 0.1 stable, 0.1 to 0.25 a moderate shift, from 0.25 a
     * significant one. The minimum is high on purpose: with ten bins PSI's sampling noise on undrifted readings is
     * about 9/n (chi-square with 9 degrees of freedom over n), and one empty bin alone adds about 0.69 (floor
     * 1e-4); at 50 readings a stable sensor was flagged in tests, at 150 such a false flag is below 1e-6.
     */
    public record Settings(int window, int minimum, double threshold, double clearBelow) {
        public static final int DEFAULT_WINDOW = 200;
        public static final int DEFAULT_MINIMUM = 150;
        public static final double DEFAULT_THRESHOLD = 0.25;
        public static final Settings DEFAULTS = new Settings(DEFAULT_WINDOW, DEFAULT_MINIMUM, DEFAULT_THRESHOLD,
                DEFAULT_THRESHOLD * 0.8);

        public Settings {
            if (window < 1 || minimum < 1 || minimum > window || !(threshold > 0) || !(clearBelow > 0)
                    || clearBelow > threshold) {
                throw new IllegalArgumentException("drift: need 1 <= minimum <= window and 0 < clear-below <= "
                        + "threshold");
            }
        }
    }

    /** One device's drift on one model, as reported by the admin API, the CLI and the metrics. */
    public record DeviceDrift(String device, String model, long version, int readings, boolean judged,
                              boolean drifting, int feature, double psi, double[] psiByFeature, Instant since) {
    }

    private static final class Entry {
        final String device;
        final String model;
        PsiWindow window;
        long version;
        double[] psi = new double[0];
        boolean drifting;
        Instant since;
        Instant lastSeen;

        Entry(String device, String model) {
            this.device = device;
            this.model = model;
        }
    }

    private final Settings settings;
    private final Clock clock;
    private final Map<String, DriftReference> references = new ConcurrentHashMap<>();
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    public DriftMonitor(Settings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Adds a validated reading of {@code device} for a model version whose signed reference section for its input
     * is {@code reference} (may be null: nothing is tracked). A reading whose {@code seq} is already in the window
     * (resent by the device) is not counted again. A new version with other reference statistics starts the
     * device's window again.
     */
    public void observe(String device, String model, long version, Map<String, Object> reference, long seq,
                        double[] features) {
        String refKey = model + "\u0000" + version;
        DriftReference ref = references.get(refKey);
        if (ref == null) {
            if (reference == null || reference.isEmpty()) {
                return;
            }
            ref = DriftReference.of(reference, features.length);
            if (ref == null) {
                return;
            }
            references.put(refKey, ref);
        }
        if (ref.features() != features.length) {
            return;
        }
        Entry e = entries.computeIfAbsent(model + "\u0000" + device, k -> new Entry(device, model));
        synchronized (e) {
            if (e.window == null || !e.window.reference().equals(ref)) {
                e.window = new PsiWindow(ref, settings.window());
                e.psi = new double[0];
                e.drifting = false;
                e.since = null;
            }
            e.version = version;
            e.lastSeen = clock.instant();
            if (!e.window.add(seq, features) || e.window.size() < settings.minimum()) {
                return;
            }
            e.psi = e.window.psi();
            int worst = worst(e.psi);
            if (!e.drifting && e.psi[worst] >= settings.threshold()) {
                e.drifting = true;
                e.since = clock.instant();
                LOG.info("drift: {} on device {}: feature {} PSI {} >= {} over its last {} readings", model, device,
                        worst, fmt(e.psi[worst]), settings.threshold(), e.window.size());
            } else if (e.drifting && e.psi[worst] < settings.clearBelow()) {
                e.drifting = false;
                e.since = null;
                LOG.info("drift cleared: {} on device {}: every feature's PSI below {}", model, device,
                        settings.clearBelow());
            }
        }
    }

    /** Every tracked device and model, drifting ones first, then by model and device; idle windows are dropped. */
    public List<DeviceDrift> snapshot() {
        List<DeviceDrift> out = new ArrayList<>();
        Instant idle = clock.instant().minus(IDLE_AFTER);
        for (Map.Entry<String, Entry> me : entries.entrySet()) {
            Entry e = me.getValue();
            synchronized (e) {
                if (e.window == null) {
                    continue;
                }
                if (e.lastSeen.isBefore(idle)) {
                    entries.remove(me.getKey(), e);
                    continue;
                }
                boolean judged = e.window.size() >= settings.minimum();
                int worst = judged ? worst(e.psi) : -1;
                out.add(new DeviceDrift(e.device, e.model, e.version, e.window.size(), judged, e.drifting, worst,
                        judged ? e.psi[worst] : 0, e.psi.clone(), e.since));
            }
        }
        out.sort(Comparator.comparing((DeviceDrift d) -> !d.drifting()).thenComparing(DeviceDrift::model)
                .thenComparing(DeviceDrift::device));
        return out;
    }

    /**
     * Prometheus gauges: {@code siteward_inference_drift_psi{model,feature}}, the highest PSI of the feature over
     * the model's judged devices, and {@code siteward_inference_drifting_devices{model}}.
     */
    public String prometheus() {
        Map<String, double[]> worst = new TreeMap<>();
        Map<String, Integer> drifting = new TreeMap<>();
        for (DeviceDrift d : snapshot()) {
            drifting.merge(d.model(), d.drifting() ? 1 : 0, Integer::sum);
            if (!d.judged()) {
                continue;
            }
            double[] w = worst.computeIfAbsent(d.model(), m -> new double[d.psiByFeature().length]);
            for (int f = 0; f < Math.min(w.length, d.psiByFeature().length); f++) {
                w[f] = Math.max(w[f], d.psiByFeature()[f]);
            }
        }
        StringBuilder b = new StringBuilder();
        b.append("# HELP siteward_inference_drift_psi Population stability index of a feature against the model's "
                + "signed reference, highest over devices.\n");
        b.append("# TYPE siteward_inference_drift_psi gauge\n");
        worst.forEach((m, w) -> {
            for (int f = 0; f < w.length; f++) {
                b.append("siteward_inference_drift_psi{model=\"").append(esc(m)).append("\",feature=\"").append(f)
                        .append("\"} ").append(String.format(Locale.ROOT, "%.6f", w[f])).append('\n');
            }
        });
        b.append("# HELP siteward_inference_drifting_devices Devices whose readings drift from the model's "
                + "reference.\n");
        b.append("# TYPE siteward_inference_drifting_devices gauge\n");
        drifting.forEach((m, n) -> b.append("siteward_inference_drifting_devices{model=\"").append(esc(m))
                .append("\"} ").append(n).append('\n'));
        return b.toString();
    }

    private static int worst(double[] psi) {
        int w = 0;
        for (int f = 1; f < psi.length; f++) {
            if (psi[f] > psi[w]) {
                w = f;
            }
        }
        return w;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
