#!/usr/bin/env python3
"""PyTorch peer of simdnet's conv training epoch: the same layers, data, loss and optimizer, written as a PyTorch
user would write them.

    python3 bench/conv_peer.py MODEL.json TRAIN.f32 [--epochs E] [--threads T[,T2…]] [--batch B] [--lr LR]
                               [--test TEST.f32 --test-noisy NOISY.f32] [--samples N] [--warmup-batches W]

MODEL.json is {"inputShape": [C, H, W], "layers": [simdnet LayerSpec, ...]} (bench/conv-peers.js writes it from
the simdnet model, so both sides train one architecture); TRAIN.f32 raw little-endian float32 rows of C*H*W values
in 0..1. Per epoch: fresh noise clip(x + 0.3 N(0,1), 0, 1), a fresh shuffle, batches of B (the last partial),
binary cross-entropy (p clamped to [1e-7, 1 - 1e-7], mean over all elements), Adam (betas 0.9 / 0.999, eps 1e-7)
at a constant lr. Timed with time.perf_counter (noise + shuffle + every step). Prints one JSON line:
    {"epochSeconds": [...], "torch": "1.13", "threads": T, "losses": [...], "psnr": [... when --test]}
With several thread counts (--threads 1,2: one Python start-up for all), each trains a fresh model of the same seed
for E epochs at that count (torch.set_num_threads), one after the other, and the line is
    {"torch": "1.13", "samples": N, "runs": [{"threads": T, "epochSeconds": [...], "losses": [...], "psnr": [...]}, ...]}
"""

import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def build(spec):
    """torch modules for simdnet LayerSpecs (CONV-CONTRACT / src/layers/layer.ts), PyTorch's weight layouts."""
    mods = []
    for s in spec["layers"]:
        t = s["type"]
        if t == "conv2d":
            pad = s["padding"]
            if pad == "same" and s["stride"] == [1, 1] and all(k % 2 == 1 for k in s["kernel"]):
                pad = [(s["kernel"][0] - 1) // 2, (s["kernel"][1] - 1) // 2] * 2  # what a torch user writes: padding=k//2
            if pad == "same" or (pad[0] != pad[2] or pad[1] != pad[3]):
                # 'same' or asymmetric pads: an explicit F.pad, then an unpadded conv (what torch users write)
                if pad == "same":
                    mods.append(SamePad(s["kernel"], s["stride"]))
                else:
                    mods.append(nn.ZeroPad2d((pad[1], pad[3], pad[0], pad[2])))
                p = (0, 0)
            else:
                p = (pad[0], pad[1])
            mods.append(nn.Conv2d(s["in"], s["out"], tuple(s["kernel"]), tuple(s["stride"]), p, bias=s.get("bias", True)))
        elif t == "conv-transpose2d":
            pad = s["padding"]
            if pad[0] != pad[2] or pad[1] != pad[3]:
                raise SystemExit(f"conv_peer: asymmetric ConvTranspose pads {pad} have no torch equivalent")
            mods.append(nn.ConvTranspose2d(s["in"], s["out"], tuple(s["kernel"]), tuple(s["stride"]), (pad[0], pad[1]),
                                           tuple(s["outputPadding"]), bias=s.get("bias", True)))
        elif t == "maxpool2d":
            pad = s["padding"]
            mods.append(nn.MaxPool2d(tuple(s["kernel"]), tuple(s["stride"]), (pad[0], pad[1])))
        elif t == "avgpool2d":
            pad = s["padding"]
            mods.append(nn.AvgPool2d(tuple(s["kernel"]), tuple(s["stride"]), (pad[0], pad[1]), count_include_pad=s["countIncludePad"]))
        elif t == "upsample2d":
            mods.append(nn.Upsample(scale_factor=tuple(float(v) for v in s["scale"]), mode="nearest"))
        elif t == "pixel-unshuffle2d":
            mods.append(nn.PixelUnshuffle(s["factor"]))
        elif t == "pixel-shuffle2d":
            mods.append(nn.PixelShuffle(s["factor"]))
        elif t == "linear":
            mods.append(nn.Linear(s["in"], s["out"]))
        elif t == "flatten":
            mods.append(nn.Flatten())
        elif t == "reshape":
            mods.append(nn.Unflatten(1, tuple(s["shape"])))
        elif t in ("relu", "sigmoid", "tanh"):
            mods.append({"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[t]())
        elif t == "softmax":
            mods.append(nn.Softmax(dim=1))
        elif t == "dropout":
            mods.append(nn.Dropout(s["rate"]))
        else:
            raise SystemExit(f"conv_peer: layer type '{t}' has no torch equivalent here")
    return nn.Sequential(*mods)


class SamePad(nn.Module):
    """TF/ONNX SAME_UPPER padding for a strided conv: total max((ceil(H/s)-1)*s + k - H, 0), the odd one at the end."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.k, self.s = kernel, stride

    def forward(self, x):
        pads = []
        for dim, k, s in ((x.shape[3], self.k[1], self.s[1]), (x.shape[2], self.k[0], self.s[0])):
            total = max((math.ceil(dim / s) - 1) * s + k - dim, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("train")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", default="1", help="a thread count, or several: 1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--samples", type=int, default=0, help="train on the first N rows only (0: all)")
    ap.add_argument("--warmup-batches", type=int, default=0, help="untimed steps before the epochs, at each thread count")
    ap.add_argument("--test")
    ap.add_argument("--test-noisy")
    a = ap.parse_args()
    counts = [int(t) for t in a.threads.split(",")]
    spec = json.load(open(a.model))
    shape = tuple(spec["inputShape"])
    x = torch.from_numpy(np.fromfile(a.train, dtype=np.float32).reshape(-1, *shape))
    if a.samples:
        x = x[: a.samples]
    test = None
    if a.test:
        test = (torch.from_numpy(np.fromfile(a.test, dtype=np.float32).reshape(-1, *shape)),
                torch.from_numpy(np.fromfile(a.test_noisy, dtype=np.float32).reshape(-1, *shape)))
    runs = [train(spec, x, test, a, t) for t in counts]
    if len(counts) == 1:
        print(json.dumps({**runs[0], "torch": torch.__version__, "samples": x.shape[0]}))
    else:
        print(json.dumps({"torch": torch.__version__, "samples": x.shape[0], "runs": runs}))


def train(spec, x, test, a, threads):
    """a fresh model (seed 0) trained for a.epochs epochs on `threads` threads"""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = build(spec)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-7)
    n = x.shape[0]
    for i in range(a.warmup_batches):  # oneDNN's primitives and the allocator's blocks, made before the timing
        j = (i * a.batch) % n
        noisy = (x[j : j + a.batch] + 0.3 * torch.randn_like(x[j : j + a.batch])).clamp_(0, 1)
        loss = F.binary_cross_entropy(net(noisy).clamp(1e-7, 1 - 1e-7), x[j : j + a.batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    secs, losses, psnrs = [], [], []
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        noisy = (x + 0.3 * torch.randn_like(x)).clamp_(0, 1)
        perm = torch.randperm(n)
        total, batches = 0.0, 0
        for i in range(0, n, a.batch):
            idx = perm[i : i + a.batch]
            p = net(noisy[idx])
            loss = F.binary_cross_entropy(p.clamp(1e-7, 1 - 1e-7), x[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
        secs.append(time.perf_counter() - t0)
        losses.append(total / batches)
        if test:
            with torch.no_grad():
                out = torch.cat([net(test[1][i : i + 500]) for i in range(0, test[1].shape[0], 500)])
                psnrs.append(10 * math.log10(1 / ((out - test[0]) ** 2).mean().item()))
    return {"threads": torch.get_num_threads(), "epochSeconds": secs, "losses": losses, "psnr": psnrs}


if __name__ == "__main__":
    main()
