#!/usr/bin/env python3
"""numpy peer of simdnet's reference training epoch, written as a numpy user would write it.

    python3 bench/numpy_peer.py DIGITS.f32 [--epochs E] [--seed S]

DIGITS.f32 is raw little-endian float32, 784 values (0..1) per row (bench/numpy-peer.js writes the 8,000
bundled training digits there). The model and the epoch are simdnet's reference ones: a denoising
autoencoder 784 -> 128 ReLU -> 784 sigmoid, binary cross-entropy (mean over all elements, p clamped to
[1e-7, 1 - 1e-7]), Adam (lr 0.001, betas 0.9 / 0.999, eps 1e-7, bias-corrected as in simdnet's kernel),
batch 64 (the last batch partial), Glorot-uniform weights and zero biases, inputs clip(x + 0.3 N(0, 1), 0, 1)
with fresh noise every epoch, clean targets, a fresh shuffle every epoch. Everything is float32.

Each epoch (noise + shuffle + every step, loss included) is timed with time.perf_counter. Prints one JSON line:
    {"epochSeconds": [...], "numpy": "2.x", "blas": "scipy-openblas 0.3.x", "threads": N,
     "threadsSource": "...", "coretype": "Haswell", "finalLoss": <mean batch loss of the last epoch>, ...}

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment (they slow OpenBLAS down
on this machine) and OPENBLAS_NUM_THREADS set to the thread count wanted (bench/numpy-peer.js does both).
"""

import argparse
import ctypes
import glob
import json
import os
import sys
import time

import numpy as np

D, H = 784, 128
BATCH = 64
LR, BETA1, BETA2, EPS = 0.001, 0.9, 0.999, 1e-7
NOISE = 0.3


def openblas_lib():
    """numpy's bundled OpenBLAS (scipy-openblas wheels), opened with ctypes; None if not found."""
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libscipy_openblas*.so*")) + glob.glob(os.path.join(libs, "libopenblas*.so*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            pass
    return None


def blas_info():
    """(blas name + version, threads, where the thread count came from, the OpenBLAS core in use)."""
    blas = None
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{cfg.get('name')} {cfg.get('version')}".strip()
    except Exception:  # older numpy: no mode="dicts"
        pass
    threads, source, core = None, None, None
    try:
        from threadpoolctl import threadpool_info  # optional

        for p in threadpool_info():
            if p.get("user_api") == "blas":
                threads, source, core = p.get("num_threads"), "threadpoolctl", p.get("architecture")
                break
    except ImportError:
        pass
    if threads is None:
        lib = openblas_lib()
        if lib is not None:
            for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
                try:
                    get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
                    get_core = getattr(lib, f"{prefix}_get_corename{suffix}")
                except AttributeError:
                    continue
                get_core.restype = ctypes.c_char_p
                threads, source, core = int(get_threads()), "openblas_get_num_threads", get_core().decode()
                break
    if threads is None and os.environ.get("OPENBLAS_NUM_THREADS"):
        threads, source = int(os.environ["OPENBLAS_NUM_THREADS"]), "OPENBLAS_NUM_THREADS"
    return blas, threads, source, core


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("digits", help="raw float32 file, 784 values per row")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    X = np.fromfile(args.digits, dtype=np.float32)
    if X.size == 0 or X.size % D:
        sys.exit(f"numpy_peer: {args.digits}: {X.size} float32 values, not a positive multiple of {D}")
    X = X.reshape(-1, D)
    N = X.shape[0]

    rng = np.random.default_rng(args.seed)
    params = [glorot(rng, D, H), np.zeros(H, np.float32), glorot(rng, H, D), np.zeros(D, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0

    epoch_seconds, epoch_losses = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        W1, b1, W2, b2 = params
        noisy = np.clip(X + NOISE * rng.standard_normal(X.shape, dtype=np.float32), 0.0, 1.0)
        perm = rng.permutation(N)
        loss_sum = 0.0
        for i in range(0, N, BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = noisy[idx], X[idx]
            B = xb.shape[0]
            # forward
            h = np.maximum(xb @ W1 + b1, 0.0)
            p = 1.0 / (1.0 + np.exp(-(h @ W2 + b2)))
            q = np.clip(p, 1e-7, 1 - 1e-7)
            loss = -np.mean(yb * np.log(q) + (1.0 - yb) * np.log(1.0 - q))
            loss_sum += float(loss) * B
            # backward: sigmoid + BCE fused
            d = (p - yb) / (B * D)
            dW2 = h.T @ d
            db2 = d.sum(axis=0)
            dh = (d @ W2.T) * (h > 0)
            dW1 = xb.T @ dh
            db1 = dh.sum(axis=0)
            # Adam
            t += 1
            c1 = 1.0 / (1.0 - BETA1 ** t)
            c2 = 1.0 / (1.0 - BETA2 ** t)
            for k, g in enumerate((dW1, db1, dW2, db2)):
                m[k] = BETA1 * m[k] + (1.0 - BETA1) * g
                v[k] = BETA2 * v[k] + (1.0 - BETA2) * (g * g)
                params[k] -= LR * (m[k] * c1) / (np.sqrt(v[k] * c2) + EPS)
        epoch_seconds.append(time.perf_counter() - start)
        epoch_losses.append(loss_sum / N)

    assert all(p.dtype == np.float32 for p in params + m + v), "numpy_peer: something went float64"
    blas, threads, source, core = blas_info()
    print(json.dumps({
        "epochSeconds": epoch_seconds,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": blas,
        "threads": threads,
        "threadsSource": source,
        "coretype": core,
        "samples": N,
        "epochLosses": epoch_losses,
        "finalLoss": epoch_losses[-1] if epoch_losses else None,
    }))


if __name__ == "__main__":
    main()
