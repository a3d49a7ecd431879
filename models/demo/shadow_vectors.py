#!/usr/bin/python3
"""Expected shadow-mode comparison of vibration-v1 (active) and vibration-v2 (candidate), computed with numpy.

Run with Debian's interpreter and packages (python3-onnx, python3-numpy):

    /usr/bin/python3 models/demo/shadow_vectors.py

Reads the weights of the committed models (it does not regenerate them), runs both on the same 128 readings (the
64 readings of vectors/vibration.json's v1 followed by the 64 of its v2, all from one device), applies each model's
own k-of-n decision window, and writes vectors/vibration-shadow.json: both scores and decisions per reading and the
number of readings on which the candidate agrees with the active model. A reading agrees when the decisions are
equal and the decision scores differ by at most TOLERANCE (absolute); docs/rollouts.md states the same rule.
"""
import json
import os

import numpy as np
import onnx
from onnx import numpy_helper

import make_models as mm

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = 0.1


def weights(version):
    model = onnx.load(os.path.join(HERE, "vibration-" + version, "model.onnx"))
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return [(init["w0"], init["b0"]), (init["w1"], init["b1"])]


def main():
    with open(os.path.join(HERE, "vectors", "vibration.json")) as f:
        base = json.load(f)
    raw = np.array(base["v1"]["features"] + base["v2"]["features"])
    scaled = ((raw - np.array(mm.MEAN)) / np.array(mm.STD)).astype(np.float32)
    active = [float(s) for s in mm.forward(weights("v1"), scaled, "Sigmoid")[:, 0]]
    shadow = [float(s) for s in mm.forward(weights("v2"), scaled, "Sigmoid")[:, 0]]
    active_decisions = mm.smooth(active)
    shadow_decisions = mm.smooth(shadow)
    agree = [a == b and abs(x - y) <= TOLERANCE
             for a, b, x, y in zip(active_decisions, shadow_decisions, active, shadow)]
    out = {
        "tolerance": TOLERANCE,
        "features": raw.tolist(),
        "active": {"version": 1, "anomaly": active, "decisions": active_decisions},
        "shadow": {"version": 2, "anomaly": shadow, "decisions": shadow_decisions},
        "agree": agree,
        "compared": len(agree),
        "agreed": sum(agree),
        "decisionsEqual": sum(a == b for a, b in zip(active_decisions, shadow_decisions)),
    }
    with open(os.path.join(HERE, "vectors", "vibration-shadow.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
