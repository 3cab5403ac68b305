# The onnx package's side of test/onnx.test.ts, in one python start-up (it is slow):
#   1. onnx.checker.check_model(full_check=True) on every file named in argv[2:], and what the onnx package
#      reads in them (IR, opsets, input/output names and shapes, metadata);
#   2. ONNX files written by onnx.helper, not by simdnet, into the folder argv[1]: the layouts other exporters
#      use (tf2onnx's MatMul + Add, float_data, opset 11 / IR 6, float16) with numpy's float64 output for a
#      batch, and files each of which simdnet must refuse.
# Prints one JSON object.
import json, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out_dir, files = sys.argv[1], sys.argv[2:]
report = {"checked": {}, "written": {}}

for path in files:
    entry = {}
    try:
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        entry["ok"] = True
        entry["ir"] = m.ir_version
        entry["opsets"] = {o.domain: o.version for o in m.opset_import}
        def dims(v):
            return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in v.type.tensor_type.shape.dim]
        entry["inputs"] = [[v.name, dims(v)] for v in m.graph.input]
        entry["outputs"] = [[v.name, dims(v)] for v in m.graph.output]
        entry["ops"] = [n.op_type for n in m.graph.node]
        entry["metadata"] = {p.key: p.value for p in m.metadata_props}
    except Exception as e:  # reported, the test fails on it
        entry = {"ok": False, "error": str(e)}
    report["checked"][path] = entry

rng = np.random.default_rng(7)
x = rng.random((10, 784), dtype=np.float32)

def weights(i, o):
    return (rng.standard_normal((i, o)) * (1 / np.sqrt(i))).astype(np.float32), (rng.standard_normal(o) * 0.1).astype(np.float32)

def tensor(name, a, raw=True, dtype=TensorProto.FLOAT):
    if raw:
        return numpy_helper.from_array(a, name)
    return helper.make_tensor(name, dtype, a.shape, a.flatten().tolist())

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def save(name, graph, opset=17, ir=8, expected=None, check=True):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx.helper")
    m.ir_version = ir
    if check:
        onnx.checker.check_model(m)
    path = os.path.join(out_dir, name + ".onnx")
    onnx.save(m, path)
    entry = {"onnx": path}
    if expected is not None:
        x.astype("<f4").tofile(os.path.join(out_dir, name + ".input.f32"))
        expected.astype("<f4").tofile(os.path.join(out_dir, name + ".output.f32"))
        entry["shape"] = list(expected.shape)
    report["written"][name] = entry

def io(inp="x", out="y", width=784, out_width=784, batch="N"):
    return ([helper.make_tensor_value_info(inp, TensorProto.FLOAT, [batch, width])],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [batch, out_width])])

# tf2onnx's Dense layers: MatMul then Add, float_data initializers, Keras-style names
W1, b1 = weights(784, 48); W2, b2 = weights(48, 784)
ins, outs = io("dense_input", "dense_1", batch="unk__6")
nodes = [helper.make_node("MatMul", ["dense_input", "dense/kernel"], ["mm0"], name="sequential/dense/MatMul"),
         helper.make_node("Add", ["mm0", "dense/bias"], ["a0"], name="sequential/dense/BiasAdd"),
         helper.make_node("Relu", ["a0"], ["r0"], name="sequential/dense/Relu"),
         helper.make_node("MatMul", ["r0", "dense_1/kernel"], ["mm1"], name="sequential/dense_1/MatMul"),
         helper.make_node("Add", ["mm1", "dense_1/bias"], ["a1"], name="sequential/dense_1/BiasAdd"),
         helper.make_node("Sigmoid", ["a1"], ["dense_1"], name="sequential/dense_1/Sigmoid")]
inits = [tensor("dense/kernel", W1, raw=False), tensor("dense/bias", b1, raw=False), tensor("dense_1/kernel", W2, raw=False), tensor("dense_1/bias", b2, raw=False)]
ref = sigmoid(np.maximum(x.astype(np.float64) @ W1 + b1, 0) @ W2 + b2)
save("tf2onnx-matmul-add-float-data", helper.make_graph(nodes, "tf2onnx", ins, outs, inits), opset=13, ir=7, expected=ref)

# opset 11 / IR 6 (torch with opset_version=11): Gemm transB=1, Softmax axis=1, initializers listed as inputs too
W1, b1 = weights(784, 24); W2, b2 = weights(24, 10)
ins, outs = io(out_width=10)
ins += [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in [("w1", [24, 784]), ("b1", [24]), ("w2", [10, 24]), ("b2", [10])]]
nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, alpha=1.0, beta=1.0),
         helper.make_node("Tanh", ["h"], ["t"]),
         helper.make_node("Gemm", ["t", "w2", "b2"], ["z"], transB=1),
         helper.make_node("Softmax", ["z"], ["y"], axis=1)]
inits = [tensor("w1", np.ascontiguousarray(W1.T)), tensor("b1", b1), tensor("w2", np.ascontiguousarray(W2.T)), tensor("b2", b2)]
z = np.tanh(x.astype(np.float64) @ W1 + b1) @ W2 + b2
ref = np.exp(z - z.max(1, keepdims=True)); ref /= ref.sum(1, keepdims=True)
save("opset11-ir6-gemm-transb-softmax", helper.make_graph(nodes, "torch11", ins, outs, inits), opset=11, ir=6, expected=ref)

# float16 weights (raw_data): widened exactly
W1, b1 = weights(784, 16); W2, b2 = weights(16, 784)
W1h, b1h, W2h, b2h = (a.astype(np.float16) for a in (W1, b1, W2, b2))
ins, outs = io()
nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "W2", "b2"], ["z"]), helper.make_node("Sigmoid", ["z"], ["y"])]
f16 = helper.make_graph(nodes, "f16", ins, outs, [numpy_helper.from_array(a, n) for a, n in ((W1h, "W1"), (b1h, "b1"), (W2h, "W2"), (b2h, "b2"))])
ref = sigmoid(np.maximum(x.astype(np.float64) @ W1h.astype(np.float64) + b1h, 0) @ W2h.astype(np.float64) + b2h)
save("float16-weights", f16, expected=ref, check=False)  # the checker wants float16 Gemm inputs; simdnet widens them

# Keras with a Dropout layer, as tf2onnx can leave it (ratio as an input, opset 13): an identity for inference
W1, b1 = weights(784, 20); W2, b2 = weights(20, 784)
ins, outs = io()
nodes = [helper.make_node("MatMul", ["x", "k1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["a1"]), helper.make_node("Relu", ["a1"], ["r1"]),
         helper.make_node("Dropout", ["r1", "ratio"], ["d1"], name="dropout"),
         helper.make_node("MatMul", ["d1", "k2"], ["m2"]), helper.make_node("Add", ["m2", "b2"], ["a2"]), helper.make_node("Sigmoid", ["a2"], ["y"])]
inits = [tensor("k1", W1), tensor("b1", b1), tensor("k2", W2), tensor("b2", b2), numpy_helper.from_array(np.array(0.2, dtype=np.float32), "ratio")]
ref = sigmoid(np.maximum(x.astype(np.float64) @ W1 + b1, 0) @ W2 + b2)
save("keras-dropout", helper.make_graph(nodes, "keras_dropout", ins, outs, inits), opset=13, ir=7, expected=ref)

# files simdnet must refuse
def mlp(inits, extra_nodes=(), opset=17, ir=8, name="bad", check=True):
    ins, outs = io(out_width=784)
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]), *extra_nodes,
             helper.make_node("Gemm", ["r2" if extra_nodes else "r", "W2", "b2"], ["z"]), helper.make_node("Sigmoid", ["z"], ["y"])]
    save(name, helper.make_graph(nodes, name, ins, outs, inits), opset=opset, ir=ir, check=check)

W1, b1 = weights(784, 8); W2, b2 = weights(8, 784)
good = [tensor("W1", W1), tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)]
mlp([tensor("W1", W1.astype(np.float64)), tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)], name="refuse-float64", check=False)
ext = tensor("W1", W1)
onnx.external_data_helper.set_external_data(ext, location="weights.bin")
ext.ClearField("raw_data")
mlp([ext, tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)], name="refuse-external-data", check=False)
scale, bias = np.ones(8, np.float32), np.zeros(8, np.float32)
mlp(good + [tensor("ln_s", scale), tensor("ln_b", bias)], extra_nodes=[helper.make_node("LayerNormalization", ["r", "ln_s", "ln_b"], ["r2"], axis=-1)], name="refuse-layernorm")
mlp(good, opset=18, name="refuse-opset18", check=False)
ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])]
outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 784])]
nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "W2", "b2"], ["z"]), helper.make_node("Sigmoid", ["z"], ["y"])]
save("refuse-4d-without-flatten", helper.make_graph(nodes, "noflatten", ins, outs, good), check=False)
mlp(good, opset=10, ir=6, name="refuse-opset10", check=False)
mlp(good, ir=9, name="refuse-ir9", check=False)
mlp(good[:3], name="refuse-missing-initializer", check=False)
mlp([tensor("W1", W1), tensor("b1", b1), tensor("W2", weights(9, 784)[0]), tensor("b2", b2)], name="refuse-wrong-shape", check=False)

print(json.dumps(report))
