# Writes the conv fixtures of test/fixtures/onnx with PyTorch's own exporter (Debian's python3-torch 1.13, CPU):
#   /usr/bin/python3 test/support/make_conv_fixtures.py [folder]      (default: test/fixtures/onnx)
# For each NAME: NAME.onnx (torch.onnx.export, as test/fixtures/onnx/README.md says), NAME.input.f32 (a batch of
# 10 uniform [0, 1) inputs) and NAME.output.f32 (PyTorch's float32 output), and an entry in index.json.
# Random weights from a fixed seed per model, eval mode; the same torch writes the same files.
import json, os, sys
import onnx
import torch
from torch import nn

out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "onnx")
BATCH = 10


class Up(nn.Module):
    """F.interpolate(scale_factor, nearest): a Resize (Upsample before opset 10)."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")


class View(nn.Module):
    """x.reshape(-1, *shape): a Reshape with a constant shape."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(-1, *self.shape)


def conv_ae():
    # 1×28×28 → 8×14×14 → 8×7×7 → (transposed s2, output_padding 1) 8×14×14 → (nearest ×2) 8×28×28 → 1×28×28
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                         nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 1, 3, padding=1), nn.Sigmoid())


def cnn_classifier():
    # 1×28×28 → 4×28×28 → 4×14×14 → 8×12×12 → 8×6×6 → 288 → 10
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(288, 10), nn.Softmax(dim=1))


MODELS = {
    # name: (builder, input shape per sample, opset)
    **{f"conv-ae-up-1x28x28-opset{o}": (conv_ae, (1, 28, 28), o) for o in (11, 13, 17)},
    **{f"cnn-classifier-1x28x28-opset{o}": (cnn_classifier, (1, 28, 28), o) for o in (11, 13, 17)},
    # count_include_pad=True with padding: torch writes Pad then AveragePool
    "avgpool-3x13x11-opset13": (lambda: nn.Sequential(
        nn.Conv2d(3, 5, 3, padding=1), nn.Tanh(), nn.AvgPool2d(3, stride=2, padding=1),
        nn.Conv2d(5, 4, 1), nn.ReLU(), nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.AvgPool2d(2), nn.Sigmoid()), (3, 13, 11), 13),
    "stride2-pad1-3x13x11-opset11": (lambda: nn.Sequential(
        nn.Conv2d(3, 6, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(6, 4, 5, stride=2, padding=2), nn.Tanh(),
        nn.Conv2d(4, 2, 3, stride=2, padding=1), nn.Sigmoid()), (3, 13, 11), 11),
    "nobias-1x12x12-opset17": (lambda: nn.Sequential(
        nn.Conv2d(1, 6, 3, bias=False), nn.ReLU(), nn.ConvTranspose2d(6, 3, 4, stride=2, padding=1, bias=False),
        nn.Tanh(), nn.Conv2d(3, 2, 1, bias=False)), (1, 12, 12), 17),
    # odd sizes, rectangular kernels, strides, paddings and scales
    "odd-3x13x11-opset17": (lambda: nn.Sequential(
        nn.Conv2d(3, 5, (3, 5), stride=(2, 1), padding=(1, 2)), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
        nn.ConvTranspose2d(5, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)), nn.Sigmoid(),
        Up((2, 3)), nn.Conv2d(4, 3, 5, padding=2), nn.Tanh()), (3, 13, 11), 17),
    # a dense bottleneck between conv stacks: Flatten, Linear, then a Reshape back to an image
    "reshape-1x14x14-opset13": (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(196, 32), nn.ReLU(),
        nn.Linear(32, 196), View(4, 7, 7), nn.ConvTranspose2d(4, 1, 2, stride=2), nn.Sigmoid()), (1, 14, 14), 13),
    # space <-> depth: torch writes nn.PixelShuffle as DepthToSpace (CRD) and nn.PixelUnshuffle as Reshape (6-D),
    # Transpose, Reshape, even on one channel; the denoiser recipe at 1/2 resolution, and factors 2 and 4 on 3 channels
    **{f"shuffle-1x28x28-opset{o}": (lambda: nn.Sequential(
        nn.PixelUnshuffle(2), nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1), nn.PixelShuffle(2),
        nn.Sigmoid()), (1, 28, 28), o) for o in (11, 13, 17)},
    "shuffle-3x12x10-opset13": (lambda: nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.PixelShuffle(2), nn.PixelUnshuffle(4), nn.Conv2d(32, 12, 1),
        nn.PixelShuffle(2), nn.Tanh()), (3, 12, 10), 13),
}

index_path = os.path.join(out_dir, "index.json")
with open(index_path) as f:
    index = json.load(f)

for seed, (name, (build, shape, opset)) in enumerate(MODELS.items()):
    torch.manual_seed(100 + seed)
    model = build().eval()
    x = torch.rand((BATCH, *shape), dtype=torch.float32)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    x.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".input.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".output.f32"))
    index[name] = {
        "onnx": name + ".onnx", "opset": opset,
        "input": {"file": name + ".input.f32", "shape": list(x.shape)},
        "output": {"file": name + ".output.f32", "shape": list(y.shape)},
        "torch": torch.__version__,
        "modules": [type(mod).__name__ for mod in model],
        "nodes": [n.op_type for n in m.graph.node],
    }
    print(f"{name}: {' '.join(n.op_type for n in m.graph.node)}")

with open(index_path, "w") as f:
    json.dump(index, f, indent=2)
    f.write("\n")
