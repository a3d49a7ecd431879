package dev.siteward.gateway.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.models.ModelSpec;
import dev.siteward.pki.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PSI per feature against the numpy vectors of models/demo/make_models.py (vectors/drift.json). */
class DriftMonitorTest {

    static JsonNode vectors;
    static Map<String, Object> reference;
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-27T10:00:00Z"));

    @BeforeAll
    static void load() throws Exception {
        Path demo = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && demo == null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/demo/vectors"))) {
                demo = p.resolve("models/demo");
            }
        }
        vectors = new ObjectMapper().readTree(demo.resolve("vectors/drift.json").toFile());
        // the reference exactly as the gateway reads it from the signed spec
        reference = ModelSpec.parse(Files.readAllBytes(demo.resolve("vibration-v1/siteward-model.yaml")))
                .reference().get("features");
    }

    static double[] row(JsonNode rows, int i) {
        double[] out = new double[rows.get(i).size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = rows.get(i).get(j).asDouble();
        }
        return out;
    }

    long seq;

    void feed(DriftMonitor m, String device, String set, int count) {
        JsonNode rows = vectors.get(set).get("features");
        for (int i = 0; i < count; i++) {
            m.observe(device, "demo/vibration", 1, reference, seq++, row(rows, i % rows.size()));
        }
    }

    static DriftMonitor.DeviceDrift of(DriftMonitor m, String device) {
        return m.snapshot().stream().filter(d -> d.device().equals(device)).findFirst().orElseThrow();
    }

    @Test
    void binEdgesAreTheDecilesOfTheReferenceNormalLawAsNumpyComputesThem() {
        DriftReference ref = DriftReference.of(reference, 8);
        JsonNode edges = vectors.get("edges");
        for (int f = 0; f < 8; f++) {
            for (int k = 0; k < 9; k++) {
                double e = edges.get(f).get(k).asDouble();
                assertEquals(k + 1, ref.bin(f, e), "a value on an edge falls in the upper bin");
                assertEquals(k, ref.bin(f, Math.nextDown(e)));
            }
        }
    }

    @Test
    void psiPerFeatureMatchesNumpyForNormalAndShiftedReadings() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        feed(m, "normal-1", "normal", 200);
        feed(m, "shifted-1", "shifted", 200);
        for (String[] c : List.of(new String[] {"normal-1", "normal"}, new String[] {"shifted-1", "shifted"})) {
            double[] psi = of(m, c[0]).psiByFeature();
            JsonNode expected = vectors.get(c[1]).get("psi");
            for (int f = 0; f < 8; f++) {
                assertEquals(expected.get(f).asDouble(), psi[f], 1e-9, c[0] + " feature " + f);
            }
        }
    }

    @Test
    void aDeviceFedShiftedReadingsIsFlaggedWithItsWorstFeatureAndANormalOneIsNot() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        JsonNode normal = vectors.get("normal").get("features");
        for (int i = 0; i < normal.size(); i++) {
            m.observe("normal-1", "demo/vibration", 1, reference, seq++, row(normal, i));
            assertFalse(of(m, "normal-1").drifting(), "a normal device is never flagged, reading " + i);
        }
        feed(m, "shifted-1", "shifted", 200);
        DriftMonitor.DeviceDrift shifted = of(m, "shifted-1");
        assertTrue(shifted.drifting());
        assertEquals(2, shifted.feature(), "feature 2 moved by one standard deviation");
        assertEquals(clock.instant(), shifted.since());
        assertFalse(of(m, "normal-1").drifting());
        assertEquals("shifted-1", m.snapshot().get(0).device(), "drifting devices are listed first");
        String text = m.prometheus();
        assertTrue(text.contains("siteward_inference_drift_psi{model=\"demo/vibration\",feature=\"2\"} "
                + String.format(java.util.Locale.ROOT, "%.6f", vectors.at("/shifted/psi/2").asDouble()) + "\n"), text);
        assertTrue(text.contains("siteward_inference_drifting_devices{model=\"demo/vibration\"} 1\n"), text);
    }

    @Test
    void nothingIsJudgedBeforeTheMinimumWindow() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        feed(m, "shifted-1", "shifted", DriftMonitor.Settings.DEFAULT_MINIMUM - 1);
        assertFalse(of(m, "shifted-1").judged());
        assertFalse(of(m, "shifted-1").drifting());
        assertFalse(m.prometheus().contains("siteward_inference_drift_psi{"), "no PSI before the minimum window");
        feed(m, "shifted-1", "shifted", 1);
        assertTrue(of(m, "shifted-1").judged());
    }

    @Test
    void theWindowForgetsOldReadingsSoDriftClearsWhenReadingsComeBack() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        feed(m, "dev-1", "shifted", 200);
        assertTrue(of(m, "dev-1").drifting());
        feed(m, "dev-1", "normal", 200);
        DriftMonitor.DeviceDrift d = of(m, "dev-1");
        assertEquals(200, d.readings(), "the window holds at most its length");
        assertFalse(d.drifting());
        assertNull(d.since());
        assertEquals(vectors.at("/normal/psi/2").asDouble(), d.psiByFeature()[2], 1e-9,
                "only the last 200 readings count");
    }

    @Test
    void aModelWithoutReferenceMeanAndStdIsNotTracked() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        m.observe("dev-1", "demo/other", 1, null, 1, new double[8]);
        m.observe("dev-1", "demo/other", 1, Map.of("min", 0.0, "max", 1.0), 2, new double[8]);
        assertTrue(m.snapshot().isEmpty());
    }

    @Test
    void aNewVersionWithOtherReferenceStatisticsStartsTheWindowAgain() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        feed(m, "dev-1", "shifted", 200);
        m.observe("dev-1", "demo/vibration", 2, Map.of("mean", List.of(5.0), "std", List.of(1.0)), seq++,
                new double[8]);
        DriftMonitor.DeviceDrift d = of(m, "dev-1");
        assertEquals(1, d.readings());
        assertEquals(2, d.version());
        assertFalse(d.drifting());
    }

    @Test
    void aResentReadingIsNotCountedTwice() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        double[] far = row(vectors.get("shifted").get("features"), 0);
        for (int i = 0; i < 300; i++) {
            m.observe("dev-1", "demo/vibration", 1, reference, 42, far);
        }
        assertEquals(1, of(m, "dev-1").readings());
    }

    @Test
    void aDeviceThatStopsSendingLeavesTheFiguresAfterTheIdleTime() {
        DriftMonitor m = new DriftMonitor(DriftMonitor.Settings.DEFAULTS, clock);
        feed(m, "revoked-1", "shifted", 200);
        clock.advance(DriftMonitor.IDLE_AFTER.minusSeconds(1));
        assertTrue(m.prometheus().contains("siteward_inference_drifting_devices{model=\"demo/vibration\"} 1\n"));
        clock.advance(java.time.Duration.ofSeconds(2));
        assertTrue(m.snapshot().isEmpty());
        assertFalse(m.prometheus().contains("siteward_inference_drifting_devices{"));
    }

    @Test
    void settingsRefuseAMinimumLongerThanTheWindow() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DriftMonitor.Settings(10, 20, 0.25, 0.2));
    }
}
