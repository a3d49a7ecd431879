package dev.siteward.gateway.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxCheckAndSpecTest {

    static OnnxCheck.Result check(byte[] onnx) throws Exception {
        return OnnxCheck.check(new ByteArrayInputStream(onnx), onnx.length, "model.onnx");
    }

    static String refusal(byte[] onnx) {
        return assertThrows(ModelException.class, () -> check(onnx)).code();
    }

    @Test
    void aSelfContainedModelPassesAndItsGraphInputsAndOutputsAreRead() throws Exception {
        OnnxCheck.Result r = check(Onnx.model(new byte[1000], false));
        assertEquals(List.of(1L, 4L), r.inputs().get("x").shape());
        assertEquals(List.of(1L, 2L), r.outputs().get("y").shape());
    }

    @Test
    void externalDataIsRefusedWhereverTheTensorIs() {
        assertEquals("model.onnx_external_data", refusal(Onnx.model(null, true)));
        // a constant tensor with external data inside the then-branch subgraph of an If node's attribute
        byte[] external = Onnx.cat(Onnx.str(8, "c"), Onnx.varint(14, 1));
        byte[] constant = Onnx.msg(1, Onnx.cat(Onnx.str(4, "Constant"), Onnx.msg(5, Onnx.cat(Onnx.str(1, "value"),
                Onnx.msg(5, external)))));
        byte[] ifNode = Onnx.cat(Onnx.str(4, "If"), Onnx.msg(5, Onnx.cat(Onnx.str(1, "then_branch"),
                Onnx.msg(6, constant))));
        byte[] model = Onnx.cat(Onnx.varint(1, 8), Onnx.msg(7, Onnx.cat(Onnx.str(2, "g"), Onnx.msg(1, ifNode))));
        assertEquals("model.onnx_external_data", refusal(model));
        // and in a function's node
        byte[] function = Onnx.cat(Onnx.str(1, "f"), Onnx.msg(7, Onnx.cat(Onnx.str(4, "Constant"),
                Onnx.msg(5, Onnx.cat(Onnx.str(1, "value"), Onnx.msg(5, external))))));
        assertEquals("model.onnx_external_data", refusal(Onnx.cat(Onnx.model(new byte[] {1}, false),
                Onnx.msg(25, function))));
    }

    @Test
    void truncatedOrNonOnnxFilesAreRefused() {
        byte[] model = Onnx.model(new byte[100], false);
        assertEquals("model.onnx_invalid", refusal(Arrays.copyOf(model, model.length - 7)));
        assertEquals("model.onnx_invalid", refusal("not a model at all".getBytes(StandardCharsets.UTF_8)));
        assertEquals("model.onnx_invalid", refusal(Onnx.varint(1, 8)));
    }

    @Test
    void theSpecIsStrictAndNamesTheKey() throws Exception {
        String ok = "entry: m.onnx\ninputs: [{name: x, shape: [1, -1, n]}]\noutputs: [{name: y, shape: [2]}]\n";
        ModelSpec spec = ModelSpec.parse(ok.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(1L, OnnxCheck.DYNAMIC, "n"), spec.inputs().get(0).shape());
        assertNull(spec.inputs().get(0).type());
        for (String[] bad : new String[][] {
            {ok + "extra: 1\n", "unknown key 'extra'"},
            {ok.replace("m.onnx", "../m.onnx"), "'entry'"},
            {ok.replace("m.onnx", "m.bin"), "'entry'"},
            {ok.replace("[2]", "[0]"), "dimension 0"},
            {ok + "preprocessing: {mean: [1, 2], std: [1]}\n", "mean and std"},
            {ok + "preprocessing: {std: [0], mean: [1]}\n", "greater than 0"},
            {ok + "postprocessing: {activation: relu}\n", "activation"},
            {ok + "thresholds: {score: high}\n", "thresholds.score"},
            {ok + "reference: {z: {mean: [1]}}\n", "'reference.z' is not one of the inputs"},
            {ok + "entry: other.onnx\n", "not valid YAML"},
            {"inputs: []\n", "'entry' is required"},
        }) {
            ModelException e = assertThrows(ModelException.class,
                    () -> ModelSpec.parse(bad[0].getBytes(StandardCharsets.UTF_8)), bad[0]);
            assertEquals("model.spec_invalid", e.code(), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    @Test
    void rangesFollowRfc9110() {
        assertArrayEquals(new long[] {0, 9}, ModelDeviceController.parseRange("0", "9", 100));
        assertArrayEquals(new long[] {10, 99}, ModelDeviceController.parseRange("10", "", 100));
        assertArrayEquals(new long[] {90, 99}, ModelDeviceController.parseRange("", "10", 100));
        assertArrayEquals(new long[] {50, 99}, ModelDeviceController.parseRange("50", "500", 100));
        assertNull(ModelDeviceController.parseRange("100", "", 100));
        assertNull(ModelDeviceController.parseRange("9", "3", 100));
        assertNull(ModelDeviceController.parseRange("", "", 100));
    }
}
