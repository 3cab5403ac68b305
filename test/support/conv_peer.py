"""PyTorch's answers for the conv kernel tests (test/conv-kernels.test.ts), in one python start-up.

stdin: JSON {"cases": [{"kind": "conv" | "convT", geometry, "x", "w", "b" (or null), "dy"}]} with flat NCHW lists;
stdout: JSON [{"y", "dx", "dw", "db"}] per case, float64: torch.nn.functional.conv2d / conv_transpose2d forward and
autograd of L = sum(dy * y). Asymmetric pads (pads = [top, left, bottom, right]): conv pads the input with F.pad
first; the transposed conv crops its output (PyTorch's padding removes the same rows on both sides).
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def run(c):
    pt, pl, pb, pr = c["pads"]
    sh, sw = c["SH"], c["SW"]
    if c["kind"] == "conv":
        B, C, H, W, OC = c["B"], c["C"], c["H"], c["W"], c["OC"]
        x = torch.tensor(c["x"]).reshape(B, C, H, W).requires_grad_()
        w = torch.tensor(c["w"]).reshape(OC, C, c["KH"], c["KW"]).requires_grad_()
        b = torch.tensor(c["b"]).requires_grad_() if c["b"] is not None else None
        y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), w, b, stride=(sh, sw))
    else:
        B, IC, IH, IW, OC = c["B"], c["IC"], c["IH"], c["IW"], c["OC"]
        oph, opw = c["outPad"]
        x = torch.tensor(c["x"]).reshape(B, IC, IH, IW).requires_grad_()
        w = torch.tensor(c["w"]).reshape(IC, OC, c["KH"], c["KW"]).requires_grad_()
        b = torch.tensor(c["b"]).requires_grad_() if c["b"] is not None else None
        full = F.conv_transpose2d(x, w, b, stride=(sh, sw), output_padding=(oph, opw))
        y = full[:, :, pt : full.shape[2] - pb, pl : full.shape[3] - pr]
    dy = torch.tensor(c["dy"]).reshape(y.shape)
    (y * dy).sum().backward()
    return {
        "shape": list(y.shape),
        "y": y.detach().flatten().tolist(),
        "dx": x.grad.flatten().tolist(),
        "dw": w.grad.flatten().tolist(),
        "db": b.grad.flatten().tolist() if b is not None else None,
    }


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump([run(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
