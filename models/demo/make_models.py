#!/usr/bin/python3
"""Generates Siteward's small demo/test ONNX models and their expected outputs.

Run with Debian's interpreter and packages (python3-onnx, python3-numpy):

    /usr/bin/python3 models/demo/make_models.py

Every weight comes from a fixed-seed generator, so the output is reproducible. The expected outputs in
vectors/*.json are computed here with numpy, independently of the gateway and ONNX Runtime: tests compare the
gateway's answers with these numbers, never with its own output.
"""
import json
import os
from statistics import NormalDist

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = 8
HIDDEN = 16
MEAN = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
STD = [1.0, 1.0, 2.0, 2.0, 0.5, 0.5, 1.5, 1.5]
RANGE = (-100.0, 100.0)
THRESHOLD = 0.5
K, N, CLEAR = 3, 5, 1


def mlp(name, layers, seed, out_name, activation):
    """An MLP graph: input 'features' [batch, layers[0]], Gemm+Relu hidden layers, last layer + activation."""
    rng = np.random.default_rng(seed)
    weights = []
    nodes = []
    inits = []
    prev = "features"
    for i in range(len(layers) - 1):
        w = (rng.standard_normal((layers[i], layers[i + 1])) / np.sqrt(layers[i])).astype(np.float32)
        b = (rng.standard_normal(layers[i + 1]) * 0.1).astype(np.float32)
        weights.append((w, b))
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        mm = f"mm{i}"
        add = f"z{i}"
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [mm]))
        last = i == len(layers) - 2
        nodes.append(helper.make_node("Add", [mm, f"b{i}"], [add if not last or activation else out_name]))
        if not last:
            nodes.append(helper.make_node("Relu", [add], [f"h{i}"]))
            prev = f"h{i}"
        elif activation:
            nodes.append(helper.make_node(activation, [add], [out_name]))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", layers[0]])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", layers[-1]])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="siteward-demo")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, weights


def forward(weights, x, activation):
    h = x.astype(np.float32)
    for i, (w, b) in enumerate(weights):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    if activation == "Sigmoid":
        h = 1.0 / (1.0 + np.exp(-h))
    return h


def spec(extra=""):
    return f"""# Vibration anomaly detector: 8 vibration features -> anomaly score in [0, 1].
entry: model.onnx
inputs:
  - name: features
    shape: [-1, {FEATURES}]
    type: float32
outputs:
  - name: anomaly
    shape: [-1, 1]
    type: float32
preprocessing:
  mean: {MEAN}
  std: {STD}
  min: {RANGE[0]}
  max: {RANGE[1]}
thresholds:
  anomaly: {THRESHOLD}
decision:
  output: anomaly
  k: {K}
  n: {N}
  clear: {CLEAR}
  action: line.stop
reference:
  features:
    mean: {MEAN}
    std: {STD}
{extra}"""


def detector():
    """The demo detector: a fixed-weight MLP that flags a reading when any scaled feature lies more than 3.5 standard
    deviations from its reference mean. Hidden unit i is relu(z_i - 3), unit 8+i is relu(-z_i - 3); the output is
    sigmoid(4 * sum(hidden) - 2), above 0.5 once the excess over 3 sigma sums to more than 0.5."""
    w0 = np.zeros((FEATURES, 2 * FEATURES), dtype=np.float32)
    for i in range(FEATURES):
        w0[i, i] = 1.0
        w0[i, FEATURES + i] = -1.0
    b0 = np.full(2 * FEATURES, -3.0, dtype=np.float32)
    w1 = np.full((2 * FEATURES, 1), 4.0, dtype=np.float32)
    b1 = np.array([-2.0], dtype=np.float32)
    weights = [(w0, b0), (w1, b1)]
    nodes = [helper.make_node("MatMul", ["features", "w0"], ["mm0"]),
             helper.make_node("Add", ["mm0", "b0"], ["z0"]),
             helper.make_node("Relu", ["z0"], ["h0"]),
             helper.make_node("MatMul", ["h0", "w1"], ["mm1"]),
             helper.make_node("Add", ["mm1", "b1"], ["z1"]),
             helper.make_node("Sigmoid", ["z1"], ["anomaly"])]
    inits = [numpy_helper.from_array(a, n) for n, a in (("w0", w0), ("b0", b0), ("w1", w1), ("b1", b1))]
    graph = helper.make_graph(
        nodes, "vibration-demo",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", FEATURES])],
        [helper.make_tensor_value_info("anomaly", TensorProto.FLOAT, ["batch", 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="siteward-demo")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, weights


# Drift: the gateway bins each feature at the deciles of the normal law N(mean, std) given by the signed reference,
# so each bin expects 10% of the readings; PSI = sum over bins of (actual - expected) * ln(actual / expected), an
# empty bin counting as PSI_FLOOR. A value equal to an edge falls in the upper bin.
BINS = 10
PSI_FLOOR = 1e-4


def psi(features, mean, std):
    edges = [[m + s * NormalDist().inv_cdf(k / BINS) for k in range(1, BINS)] for m, s in zip(mean, std)]
    out = []
    for j in range(features.shape[1]):
        idx = np.searchsorted(np.array(edges[j]), features[:, j], side="right")
        actual = np.bincount(idx, minlength=BINS) / features.shape[0]
        actual = np.maximum(actual, PSI_FLOOR)
        expected = np.full(BINS, 1.0 / BINS)
        out.append(float(np.sum((actual - expected) * np.log(actual / expected))))
    return out, edges


def drift_vectors():
    rng = np.random.default_rng(77)
    normal = np.round(rng.standard_normal((200, FEATURES)) * np.array(STD) + np.array(MEAN), 4)
    shifted = normal.copy()
    shifted[:, 2] += 1.0 * STD[2]
    shifted[:, 5] -= 0.5 * STD[5]
    shifted = np.round(shifted, 4)
    psi_normal, edges = psi(normal, MEAN, STD)
    psi_shifted, _ = psi(shifted, MEAN, STD)
    return {"bins": BINS, "floor": PSI_FLOOR, "mean": MEAN, "std": STD, "edges": edges,
            "normal": {"features": normal.tolist(), "psi": psi_normal},
            "shifted": {"features": shifted.tolist(), "psi": psi_shifted}}


def smooth(scores):
    """k-of-n with hysteresis, the rule docs/inference.md states: alarm when >= K of the last N scores are above
    the threshold; an alarm clears only when <= CLEAR of the last N are."""
    window, alarm, out = [], False, []
    for s in scores:
        window = (window + [s > THRESHOLD])[-N:]
        hits = sum(window)
        if not alarm and hits >= K:
            alarm = True
        elif alarm and hits <= CLEAR:
            alarm = False
        out.append("alarm" if alarm else "normal")
    return out


def write(directory, model, yaml_text):
    os.makedirs(directory, exist_ok=True)
    onnx.save(model, os.path.join(directory, "model.onnx"))
    with open(os.path.join(directory, "siteward-model.yaml"), "w") as f:
        f.write(yaml_text)


def main():
    vectors = {}
    for version, seed in (("v1", 8), ("v2", 9)):
        model, weights = mlp("vibration", [FEATURES, HIDDEN, 1], seed, "anomaly", "Sigmoid")
        write(os.path.join(HERE, "vibration-" + version), model, spec())
        rng = np.random.default_rng(100 + seed)
        raw = rng.standard_normal((64, FEATURES)) * np.array(STD) * 2 + np.array(MEAN)
        raw = np.round(raw, 4)
        scaled = (raw - np.array(MEAN)) / np.array(STD)
        scores = forward(weights, scaled.astype(np.float32), "Sigmoid")[:, 0]
        vectors[version] = {
            "features": raw.tolist(),
            "anomaly": [float(s) for s in scores],
            "decisions": smooth([float(s) for s in scores]),
        }
    os.makedirs(os.path.join(HERE, "vectors"), exist_ok=True)
    with open(os.path.join(HERE, "vectors", "vibration.json"), "w") as f:
        json.dump({"threshold": THRESHOLD, "k": K, "n": N, "clear": CLEAR, "tolerance": 1e-5, **vectors}, f,
                  indent=1)
        f.write("\n")

    # the demo's detector ('siteward demo'): quiet on readings drawn from the reference, loud on a 4-sigma burst
    model, weights = detector()
    write(os.path.join(HERE, "vibration-demo"), model, spec().replace(
        "# Vibration anomaly detector: 8 vibration features", "# Vibration anomaly detector (demo): 8 features beyond "
        "3.5 sigma"))
    rng = np.random.default_rng(5)
    raw = np.round(rng.standard_normal((32, FEATURES)) * np.array(STD) + np.array(MEAN), 4)
    raw[24:, 3] = MEAN[3] + 6 * STD[3]
    scaled = (raw - np.array(MEAN)) / np.array(STD)
    scores = forward(weights, scaled.astype(np.float32), "Sigmoid")[:, 0]
    with open(os.path.join(HERE, "vectors", "vibration-demo.json"), "w") as f:
        json.dump({"tolerance": 1e-5, "features": raw.tolist(), "anomaly": [float(s) for s in scores],
                   "decisions": smooth([float(s) for s in scores])}, f, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "vectors", "drift.json"), "w") as f:
        json.dump(drift_vectors(), f, indent=1)
        f.write("\n")

    # benchmark model: the shape FACTS.md measured (32 -> 64 -> 64 -> 4), no spec sections beyond the tensors
    bench, bw = mlp("bench", [32, 64, 64, 4], 32, "scores", None)
    write(os.path.join(HERE, "bench-mlp"), bench, """# Benchmark MLP 32 -> 64 -> 64 -> 4 (no pre/post-processing).
entry: model.onnx
inputs:
  - name: features
    shape: [-1, 32]
    type: float32
outputs:
  - name: scores
    shape: [-1, 4]
    type: float32
""")
    rng = np.random.default_rng(33)
    x = np.round(rng.standard_normal((4, 32)), 4)
    with open(os.path.join(HERE, "vectors", "bench-mlp.json"), "w") as f:
        json.dump({"tolerance": 1e-4, "features": x.tolist(),
                   "scores": forward(bw, x.astype(np.float32), None).tolist()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
