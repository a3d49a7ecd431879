package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.siteward.gateway.models.ModelException;
import dev.siteward.gateway.models.ModelSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The spec sections shared inference reads: preprocessing ranges and the decision rule. */
class InferenceSpecTest {

    private static final String BASE = "entry: model.onnx\ninputs:\n  - name: features\n    shape: [-1, 2]\n"
            + "outputs:\n  - name: anomaly\n    shape: [-1, 1]\n";

    private static ModelSpec parse(String yaml) throws ModelException {
        return ModelSpec.parse(yaml.getBytes(StandardCharsets.UTF_8));
    }

    private static String refusal(String yaml) {
        return assertThrows(ModelException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void theDemoSpecParsesWithItsDecisionRule() throws Exception {
        ModelSpec spec = ModelSpec.parse(Files.readAllBytes(
                DemoModels.DIR.resolve("vibration-v1/siteward-model.yaml")));
        assertEquals(Map.of("output", "anomaly", "k", 3L, "n", 5L, "clear", 1L, "action", "line.stop"),
                spec.decision());
        assertEquals(-100.0, spec.preprocessing().get("min"));
    }

    @Test
    void decisionDefaultsToOneOfOneWithClearBelowK() throws Exception {
        ModelSpec spec = parse(BASE + "thresholds:\n  anomaly: 0.5\ndecision:\n  output: anomaly\n  k: 2\n  n: 4\n");
        assertEquals(1L, spec.decision().get("clear"));
        assertTrue(parse(BASE).decision().isEmpty());
    }

    @Test
    void badDecisionRulesAndRangesAreRefusedNamingTheKey() {
        assertTrue(refusal(BASE + "thresholds:\n  anomaly: 0.5\ndecision:\n  output: nope\n")
                .contains("'decision.output' must name one of the outputs"));
        assertTrue(refusal(BASE + "decision:\n  output: anomaly\n").contains("needs 'thresholds.anomaly'"));
        assertTrue(refusal(BASE + "thresholds:\n  anomaly: 0.5\ndecision:\n  output: anomaly\n  k: 6\n  n: 5\n")
                .contains("'decision.k' must be an integer from 1 to 5"));
        assertTrue(refusal(BASE + "thresholds:\n  anomaly: 0.5\ndecision:\n  output: anomaly\n  k: 2\n  n: 5\n"
                + "  clear: 2\n").contains("'decision.clear' must be an integer from 0 to 1"));
        assertTrue(refusal(BASE + "thresholds:\n  anomaly: 0.5\ndecision:\n  output: anomaly\n  action: 'Rm -rf'\n")
                .contains("'decision.action'"));
        assertTrue(refusal(BASE + "thresholds:\n  anomaly: 0.5\ndecision:\n  output: anomaly\n  window: 3\n")
                .contains("unknown key 'window'"));
        assertTrue(refusal(BASE + "preprocessing:\n  min: 5\n  max: 1\n").contains("min is greater than max"));
    }

    @Test
    void aModelWithoutOneFloatFeatureInputCannotBeServed() throws Exception {
        ModelSpec image = parse("entry: model.onnx\ninputs:\n  - name: images\n    shape: [1, 3, 224, 224]\n"
                + "outputs:\n  - name: scores\n    shape: [1, 4]\n");
        assertEquals(ReadingError.UNKNOWN_MODEL, assertThrows(ReadingError.class,
                () -> InferencePipeline.of("vision/x", 1, image)).code());
    }
}
