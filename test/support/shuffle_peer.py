# PyTorch's side of test/pixel-shuffle.test.ts, in one python start-up: reads a JSON list of cases on stdin, prints a
# JSON list of results. Arrays travel as base64 of little-endian float32.
#   unshuffle: F.pixel_unshuffle(x, r), then y.backward(dy) -> y, dx
#   shuffle:   F.pixel_shuffle(x, r), then y.backward(dy) -> y, dx
import base64, json, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def arr(s, shape):
    return torch.from_numpy(np.frombuffer(base64.b64decode(s), dtype="<f4").copy().reshape(shape))


def b64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().numpy().astype("<f4")).tobytes()).decode()


out = []
for c in json.load(sys.stdin):
    x = arr(c["x"], c["shape"]).requires_grad_(True)
    y = (F.pixel_unshuffle if c["op"] == "unshuffle" else F.pixel_shuffle)(x, c["r"])
    y.backward(arr(c["dy"], list(y.shape)))
    out.append({"y": b64(y), "dx": b64(x.grad), "shape": list(y.shape)})
print(json.dumps({"torch": torch.__version__, "results": out}))
