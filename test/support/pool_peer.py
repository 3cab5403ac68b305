# PyTorch's side of test/pool-kernels.test.ts, in one python start-up: reads a JSON list of cases on stdin, prints
# a JSON list of results. Arrays travel as base64 of little-endian float32 (int32 for max pool's indices), so NaN
# and -inf pass unchanged.
#   max: F.max_pool2d(x, kernel, stride, padding, return_indices=True), then y.backward(dy) -> y, idx, dx
#   avg: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=...), backward -> y, dx
#   up:  F.interpolate(x, scale_factor=scale, mode='nearest'), backward -> y, dx
# PyTorch pads symmetrically: a case's pads [t, l, b, r] must have t == b and l == r.
import base64, json, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def arr(s, shape):
    return torch.from_numpy(np.frombuffer(base64.b64decode(s), dtype="<f4").copy().reshape(shape))


def b64(t, dtype="<f4"):
    return base64.b64encode(np.ascontiguousarray(t.detach().numpy().astype(dtype)).tobytes()).decode()


out = []
for c in json.load(sys.stdin):
    x = arr(c["x"], c["shape"]).requires_grad_(True)
    r = {}
    if c["op"] == "up":
        y = F.interpolate(x, scale_factor=tuple(float(s) for s in c["scale"]), mode="nearest")
    else:
        t, l, b, rr = c["pads"]
        assert t == b and l == rr, "PyTorch pads symmetrically"
        args = dict(kernel_size=tuple(c["kernel"]), stride=tuple(c["stride"]), padding=(t, l))
        if c["op"] == "max":
            y, idx = F.max_pool2d(x, return_indices=True, **args)
            r["idx"] = b64(idx, "<i4")
        else:
            y = F.avg_pool2d(x, count_include_pad=bool(c["countIncludePad"]), **args)
    y.backward(arr(c["dy"], list(y.shape)))
    r["y"] = b64(y)
    r["dx"] = b64(x.grad)
    r["shape"] = list(y.shape)
    out.append(r)
print(json.dumps({"torch": torch.__version__, "results": out}))
