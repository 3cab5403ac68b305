# The onnx package's side of test/onnx-conv.test.ts, in one python start-up:
#   1. onnx.checker.check_model(full_check=True) on every file named in argv[2:], and what it reads in them;
#   2. conv graphs written by onnx.helper (not by PyTorch) into the folder argv[1], in layouts other exporters use
#      (auto_pad, Resize by sizes or half_pixel, Upsample, ConvTranspose output_shape, AveragePool with
#      count_include_pad, Constant value_ints), each with a batch of inputs; onnxruntime, in the test, gives their
#      outputs; and files simdnet must refuse, one unsupported thing each.
# Prints one JSON object.
import json, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out_dir, files = sys.argv[1], sys.argv[2:]
report = {"checked": {}, "written": {}}

for path in files:
    try:
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        dims = lambda v: [d.dim_param if d.HasField("dim_param") else d.dim_value for d in v.type.tensor_type.shape.dim]
        report["checked"][path] = {"ok": True, "ir": m.ir_version, "opsets": {o.domain: o.version for o in m.opset_import},
                                   "inputs": [[v.name, dims(v)] for v in m.graph.input],
                                   "outputs": [[v.name, dims(v)] for v in m.graph.output],
                                   "ops": [n.op_type for n in m.graph.node]}
    except Exception as e:  # reported, the test fails on it
        report["checked"][path] = {"ok": False, "error": str(e)}

rng = np.random.default_rng(11)


def w(*shape):
    return (rng.standard_normal(shape) * 0.3).astype(np.float32)


def save(name, nodes, inits, in_shape, out_shape, opset=17, ir=8, check=True):
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *in_shape])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", *out_shape])]
    g = helper.make_graph(nodes, name, ins, outs, [numpy_helper.from_array(a, n) for n, a in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx.helper")
    m.ir_version = ir
    if check:
        onnx.checker.check_model(m, full_check=True)
    path = os.path.join(out_dir, name + ".onnx")
    onnx.save(m, path)
    x = rng.random((4, *in_shape), dtype=np.float32)
    x.astype("<f4").tofile(os.path.join(out_dir, name + ".input.f32"))
    report["written"][name] = {"onnx": path, "input": os.path.join(out_dir, name + ".input.f32"), "shape": [4, *in_shape]}


N = helper.make_node
i64 = lambda *v: np.array(v, dtype=np.int64)
f32 = lambda *v: np.array(v, dtype=np.float32)

# ---- accepted: other exporters' ways of writing what simdnet has --------------------------------------------
# Keras/tf2onnx padding='same' (stride 2 on an odd size: the extra pad at the end), VALID, a count_include_pad pool
save("conv-auto-pad-same-upper-valid", [
    N("Conv", ["x", "W1", "b1"], ["c1"], auto_pad="SAME_UPPER", kernel_shape=[3, 3], strides=[2, 2]), N("Relu", ["c1"], ["r1"]),
    N("Conv", ["r1", "W2"], ["c2"], auto_pad="VALID", kernel_shape=[2, 3]),
    N("AveragePool", ["c2"], ["y"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1)],
    {"W1": w(4, 2, 3, 3), "b1": w(4), "W2": w(3, 4, 2, 3)}, [2, 9, 8], [3, 4, 2])
# Resize by sizes (opset 11 with roi and an empty scales), half_pixel with round_prefer_floor (ONNX's defaults);
# a constant sizes fixes the batch too (onnxruntime resizes N to sizes[0]): 4, the batch the test runs
save("resize-sizes-half-pixel-opset11", [
    N("Constant", [], ["roi"], value=numpy_helper.from_array(np.zeros(0, np.float32))),
    N("Constant", [], ["empty"], value=numpy_helper.from_array(np.zeros(0, np.float32))),
    N("Resize", ["x", "roi", "empty", "sizes"], ["u1"], mode="nearest"),
    N("Conv", ["u1", "W1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Sigmoid", ["c1"], ["s1"]),
    N("Resize", ["s1", "roi", "scales"], ["y"], mode="nearest", coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")],
    {"sizes": i64(4, 2, 15, 14), "W1": w(3, 2, 3, 3), "b1": w(3), "scales": f32(1, 1, 3, 1)}, [2, 5, 7], [3, 45, 14], opset=11, ir=6)
# ConvTranspose with an output_shape that agrees with its pads; a Reshape whose shape is a Constant value_ints
save("convtranspose-output-shape-reshape", [
    N("ConvTranspose", ["x", "W1", "b1"], ["t1"], kernel_shape=[3, 3], strides=[2, 2], output_shape=[10, 12], output_padding=[1, 1]),
    N("Tanh", ["t1"], ["h1"]), N("Constant", [], ["shape"], value_ints=[0, -1]), N("Reshape", ["h1", "shape"], ["f1"]),
    N("Gemm", ["f1", "W2", "b2"], ["g1"], transB=1), N("Softmax", ["g1"], ["y"], axis=-1)],
    {"W1": w(3, 2, 3, 3), "b1": w(2), "W2": w(5, 240), "b2": w(5)}, [3, 5, 6], [5])

# space <-> depth as ONNX defines it: DepthToSpace DCR (its default mode) where it is PyTorch's order (one channel
# out), SpaceToDepth on one channel; PyTorch's pixel_shuffle as Reshape, Transpose, Reshape (its export before
# DepthToSpace had a mode), shapes given with 0 and -1
save("depth-space-dcr-one-channel", [
    N("SpaceToDepth", ["x"], ["s1"], blocksize=2), N("Conv", ["s1", "W1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    N("Constant", [], ["shape6"], value_ints=[0, 1, 3, 3, 4, 5]), N("Reshape", ["c1", "shape6"], ["v1"]),
    N("Transpose", ["v1"], ["t1"], perm=[0, 1, 4, 2, 5, 3]), N("Reshape", ["t1", "shape4"], ["r1"]),
    N("SpaceToDepth", ["r1"], ["s2"], blocksize=3), N("DepthToSpace", ["s2"], ["y"], blocksize=3)],
    {"W1": w(9, 4, 3, 3), "b1": w(9), "shape4": i64(-1, 1, 12, 15)}, [1, 8, 10], [1, 12, 15])

# ---- refused: one unsupported thing each -------------------------------------------------------------------
def conv_then(name, conv_attrs=None, extra=(), W=None, in_shape=(2, 8, 8), opset=17, check=True, inits=None):
    nodes = [N("Conv", ["x", "W1", "b1"], ["c1"], **(conv_attrs or {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})), *extra]
    nodes[-1].output[0] = "y"
    save(name, nodes, {"W1": W if W is not None else w(4, 2, 3, 3), "b1": w(4), **(inits or {})}, list(in_shape), [4, 8, 8], opset=opset, check=check)

conv_then("refuse-group", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 2}, W=w(4, 1, 3, 3))
conv_then("refuse-dilations", {"kernel_shape": [3, 3], "pads": [2, 2, 2, 2], "dilations": [2, 2]})
conv_then("refuse-same-lower", {"kernel_shape": [3, 3], "auto_pad": "SAME_LOWER"})
conv_then("refuse-conv1d", {"kernel_shape": [3], "pads": [1, 1]}, W=w(4, 2, 3), in_shape=(2, 8), check=False)
conv_then("refuse-ceil-mode", extra=[N("MaxPool", ["c1"], ["p"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)], check=False)
conv_then("refuse-maxpool-indices", extra=[N("MaxPool", ["c1"], ["p", "idx"], kernel_shape=[2, 2], strides=[2, 2])], check=False)
conv_then("refuse-resize-linear", extra=[N("Constant", [], ["sc"], value_floats=[1, 1, 2, 2]), N("Resize", ["c1", "", "sc"], ["u"], mode="linear")], check=False)
conv_then("refuse-resize-round-asymmetric", extra=[N("Resize", ["c1", "", "sc"], ["u"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="round_prefer_ceil")], inits={"sc": f32(1, 1, 3, 3)}, check=False)
conv_then("refuse-resize-fraction", extra=[N("Resize", ["c1", "", "sc"], ["u"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")], inits={"sc": f32(1, 1, 1.5, 2)}, check=False)
conv_then("refuse-pad-reflect", extra=[N("Pad", ["c1", "pads"], ["p"], mode="reflect"), N("AveragePool", ["p"], ["a"], kernel_shape=[3, 3])], inits={"pads": i64(0, 0, 1, 1, 0, 0, 1, 1)}, check=False)
conv_then("refuse-pad-before-maxpool", extra=[N("Pad", ["c1", "pads"], ["p"]), N("MaxPool", ["p"], ["a"], kernel_shape=[3, 3])], inits={"pads": i64(0, 0, 1, 1, 0, 0, 1, 1)}, check=False)
conv_then("refuse-softmax-channels", extra=[N("Softmax", ["c1"], ["s"], axis=1)], check=False)
conv_then("refuse-output-shape", extra=[N("ConvTranspose", ["c1", "W2"], ["t"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_shape=[16, 16])], inits={"W2": w(4, 4, 3, 3)}, check=False)
conv_then("refuse-reshape-batch", extra=[N("Reshape", ["c1", "sh"], ["r"])], inits={"sh": i64(2, -1)}, check=False)
conv_then("refuse-leaky-relu", extra=[N("LeakyRelu", ["c1"], ["l"], alpha=0.1)], check=False)
conv_then("refuse-depth-to-space-dcr", extra=[N("DepthToSpace", ["c1"], ["d"], blocksize=2, mode="DCR"), N("Relu", ["d"], ["r"])], W=w(8, 2, 3, 3), inits={"b1": w(8)}, check=False)
conv_then("refuse-space-to-depth-channels", extra=[N("SpaceToDepth", ["c1"], ["d"], blocksize=2)], check=False)
conv_then("refuse-transpose-not-shuffle", extra=[N("Reshape", ["c1", "s6"], ["v"]), N("Transpose", ["v"], ["t"], perm=[0, 1, 2, 4, 3, 5]), N("Reshape", ["t", "s4"], ["r"])], inits={"s6": i64(-1, 4, 4, 2, 4, 2), "s4": i64(-1, 16, 4, 4)}, check=False)
conv_then("refuse-transpose-alone", extra=[N("Transpose", ["c1"], ["t"], perm=[0, 1, 3, 2])], check=False)
conv_then("refuse-channels-mismatch", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, W=w(4, 3, 3, 3), check=False)

print(json.dumps(report))
