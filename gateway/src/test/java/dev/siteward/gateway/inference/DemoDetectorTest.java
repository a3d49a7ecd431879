package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.siteward.gateway.demo.DemoReadings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's detector (models/demo/vibration-demo) against its numpy vectors, and on the demo's own readings. */
class DemoDetectorTest {

    private static float score(LoadedModel m, double[] x) throws Exception {
        float[] row = m.pipeline().prepare(x);
        Map<String, float[]> out = m.onnx().run(row, 1);
        return out.get("anomaly")[0];
    }

    @Test
    void scoresMatchTheNumpyVectors() throws Exception {
        JsonNode v = DemoModels.vectors("vibration-demo");
        try (LoadedModel m = DemoModels.load("vibration-demo", "demo/vibration", 1)) {
            for (int i = 0; i < v.get("features").size(); i++) {
                assertEquals(v.get("anomaly").get(i).asDouble(), score(m, DemoModels.row(v.get("features"), i)),
                        v.get("tolerance").asDouble(), "row " + i);
            }
        }
    }

    @Test
    void readingsFromTheReferenceLawStayBelowTheThresholdAndABurstReadingIsAboveIt() throws Exception {
        try (LoadedModel m = DemoModels.load("vibration-demo", "demo/vibration", 1)) {
            DemoReadings normal = new DemoReadings(DemoReadings.Kind.NORMAL, 1);
            int above = 0;
            for (int i = 0; i < 2000; i++) {
                above += score(m, normal.next(i / 10.0, false)) > 0.5 ? 1 : 0;
            }
            assertTrue(above <= 20, above + " of 2000 normal readings above 0.5 (expected about 0.4%)");
            DemoReadings anomaly = new DemoReadings(DemoReadings.Kind.ANOMALY, 2);
            assertTrue(score(m, anomaly.next(1, true)) > 0.99);
        }
    }
}
