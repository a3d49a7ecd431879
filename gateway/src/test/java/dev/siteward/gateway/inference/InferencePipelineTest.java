package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InferencePipelineTest {

    @Test
    void scoresAndDecisionsMatchTheNumpyVectorsForEveryBatchSize() throws Exception {
        JsonNode v = DemoModels.vectors("vibration");
        for (String version : List.of("v1", "v2")) {
            JsonNode features = v.get(version).get("features");
            try (LoadedModel m = DemoModels.load("vibration-" + version, "demo/vibration", 1)) {
                for (int batch : new int[] {1, 7, 32, 64}) {
                    DecisionFilter filter = m.pipeline().newFilter();
                    for (int start = 0; start < features.size(); start += batch) {
                        int count = Math.min(batch, features.size() - start);
                        float[] rows = new float[count * 8];
                        for (int i = 0; i < count; i++) {
                            System.arraycopy(m.pipeline().prepare(DemoModels.row(features, start + i)), 0, rows,
                                    i * 8, 8);
                        }
                        Map<String, float[]> out = m.onnx().run(rows, count);
                        for (int i = 0; i < count; i++) {
                            Map<String, Object> o = m.pipeline().outputs(out, i, count);
                            double expected = v.get(version).get("anomaly").get(start + i).asDouble();
                            assertEquals(expected, (Double) o.get("anomaly"), v.get("tolerance").asDouble(),
                                    version + " row " + (start + i) + " batch " + batch);
                            assertEquals(v.get(version).get("decisions").get(start + i).asText(),
                                    filter.add(m.pipeline().aboveThreshold(o)).decision());
                        }
                    }
                }
            }
        }
    }

    @Test
    void aModelWithoutActivationReturnsItsRawScoresAsAList() throws Exception {
        JsonNode v = DemoModels.vectors("bench-mlp");
        try (LoadedModel m = DemoModels.load("bench-mlp", "demo/bench", 1)) {
            int count = v.get("features").size();
            float[] rows = new float[count * 32];
            for (int i = 0; i < count; i++) {
                System.arraycopy(m.pipeline().prepare(DemoModels.row(v.get("features"), i)), 0, rows, i * 32, 32);
            }
            Map<String, float[]> out = m.onnx().run(rows, count);
            for (int i = 0; i < count; i++) {
                @SuppressWarnings("unchecked")
                List<Double> scores = (List<Double>) m.pipeline().outputs(out, i, count).get("scores");
                for (int j = 0; j < 4; j++) {
                    assertEquals(v.get("scores").get(i).get(j).asDouble(), scores.get(j), 1e-4);
                }
            }
        }
    }

    @Test
    void badReadingsAreRefusedWithTheirStableCodes() throws Exception {
        try (LoadedModel m = DemoModels.load("vibration-v1", "demo/vibration", 1)) {
            InferencePipeline p = m.pipeline();
            assertEquals(ReadingError.BAD_SHAPE, assertThrows(ReadingError.class,
                    () -> p.prepare(new double[7])).code());
            assertEquals(ReadingError.BAD_SHAPE, assertThrows(ReadingError.class, () -> p.prepare(null)).code());
            double[] nan = new double[8];
            nan[3] = Double.NaN;
            assertEquals(ReadingError.NOT_FINITE, assertThrows(ReadingError.class, () -> p.prepare(nan)).code());
            double[] inf = new double[8];
            inf[0] = Double.POSITIVE_INFINITY;
            assertEquals(ReadingError.NOT_FINITE, assertThrows(ReadingError.class, () -> p.prepare(inf)).code());
            double[] far = new double[8];
            far[5] = 1e6;
            ReadingError e = assertThrows(ReadingError.class, () -> p.prepare(far));
            assertEquals(ReadingError.OUT_OF_RANGE, e.code());
            assertEquals("feature 5 is 1000000.0, outside [-100.0, 100.0]", e.getMessage());
        }
    }

    @Test
    void oneNoisyReadingDoesNotFireAnAlarmButThreeOfFiveDo() {
        DecisionFilter f = new DecisionFilter(3, 5, 1);
        List<String> seen = new ArrayList<>();
        boolean[] in = {true, false, false, false, false, true, true, false, true, false, false, false, false};
        List<Boolean> started = new ArrayList<>();
        for (boolean b : in) {
            DecisionFilter.Step s = f.add(b);
            seen.add(s.decision());
            started.add(s.alarmStarted());
        }
        assertEquals(List.of("normal", "normal", "normal", "normal", "normal", "normal", "normal", "normal",
                "alarm", "alarm", "alarm", "normal", "normal"), seen);
        assertEquals(1, started.stream().filter(x -> x).count());
    }
}
