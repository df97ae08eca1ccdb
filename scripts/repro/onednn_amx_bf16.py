#!/usr/bin/python3
"""Which bf16 operation of byol's training step goes wrong under oneDNN's AMX kernels.

Runs every convolution, linear layer and BatchNorm of ResNet-18 and the BYOL heads (32x32 images,
the 7x7 stem, the shapes of the Lightly example) forward and backward under CPU bf16 autocast,
and compares each output and gradient with the same operation in float32. It does so once per
oneDNN instruction set, each in its own process (oneDNN reads ONEDNN_MAX_CPU_ISA once), and prints
one table: relative error per operation and instruction set. An operation whose error is far
larger under AMX than under AVX512-BF16 (or NaN) is the one that makes bf16 training diverge.

Uses Debian's python3-torch, which loads the same libdnnl as byol's libtorch:
    /usr/bin/python3 scripts/repro/onednn_amx_bf16.py [--batch 64] [--channels-last]
On a CPU without AMX both columns use the same kernels (the script says which ISA oneDNN used).
"""
import argparse
import json
import os
import re
import subprocess
import sys

ISAS = ["AVX512_CORE_BF16", "AVX512_CORE_AMX"]

# (name, in_channels, out_channels, kernel, stride, padding, input size) of ResNet-18 at 32x32.
CONVS = [
    ("conv1 7x7/2", 3, 64, 7, 2, 3, 32),
    ("layer1 3x3", 64, 64, 3, 1, 1, 8),
    ("layer2.0.conv1 3x3/2", 64, 128, 3, 2, 1, 8),
    ("layer2.0.downsample 1x1/2", 64, 128, 1, 2, 0, 8),
    ("layer2 3x3", 128, 128, 3, 1, 1, 4),
    ("layer3.0.conv1 3x3/2", 128, 256, 3, 2, 1, 4),
    ("layer3 3x3", 256, 256, 3, 1, 1, 2),
    ("layer4.0.conv1 3x3/2", 256, 512, 3, 2, 1, 2),
    ("layer4 3x3 (1x1 maps)", 512, 512, 3, 1, 1, 1),
]
# (name, in_features, out_features) of the projection and prediction heads.
LINEARS = [("projection 512->1024", 512, 1024), ("projection 1024->256", 1024, 256), ("prediction 256->1024", 256, 1024)]


def relative_error(a, b):
    import torch

    a, b = a.double(), b.double()
    if not torch.isfinite(a).all():
        return float("nan")
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def measure(batch, channels_last):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    rows = {}

    def compare(name, module, x):
        outs = {}
        for precision in ("fp32", "bf16"):
            m = module.to(memory_format=fmt) if x.dim() == 4 else module
            m.zero_grad()
            inp = x.clone().to(memory_format=fmt if x.dim() == 4 else torch.contiguous_format).requires_grad_(True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                y = m(inp)
            g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
            y.float().backward(g)
            outs[precision] = (y.float().detach(), inp.grad.detach(), next(m.parameters()).grad.detach().clone())
        for i, what in enumerate(("forward", "grad input", "grad weight")):
            rows[f"{name}: {what}"] = relative_error(outs["bf16"][i], outs["fp32"][i])

    for name, cin, cout, k, s, p, size in CONVS:
        conv = torch.nn.Conv2d(cin, cout, k, s, p, bias=False)
        compare(name, conv, torch.randn(batch, cin, size, size))
    for name, fin, fout in LINEARS:
        compare(name, torch.nn.Linear(fin, fout, bias=fin != 512), torch.randn(batch, fin))
    # BatchNorm of a bf16 convolution output, as autocast hands it on.
    bn = torch.nn.BatchNorm2d(64)
    compare("BatchNorm2d after a bf16 conv", torch.nn.Sequential(torch.nn.Conv2d(64, 64, 3, 1, 1, bias=False), bn).train(), torch.randn(batch, 64, 8, 8))
    return rows


def child(isa, batch, channels_last):
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa, ONEDNN_VERBOSE="1")
    cmd = [sys.executable, __file__, "--worker", "--batch", str(batch)] + (["--channels-last"] if channels_last else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    used = re.search(r"onednn_verbose,info,cpu,isa:(.*)", out)
    return (used.group(1).strip() if used else "unknown"), json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--worker", action="store_true")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(measure(args.batch, args.channels_last)))
        return
    import torch

    print(f"torch {torch.__version__}, {torch.__config__.show().splitlines()[3].strip()}")
    results = {isa: child(isa, args.batch, args.channels_last) for isa in ISAS}
    for isa, (used, _) in results.items():
        print(f"ONEDNN_MAX_CPU_ISA={isa}: oneDNN used {used}")
    print(f"| bf16 vs fp32 relative error (batch {args.batch}{', channels-last' if args.channels_last else ''}) | " + " | ".join(ISAS) + " |")
    print("|---|" + "---|" * len(ISAS))
    suspects = []
    for op in results[ISAS[0]][1]:
        errors = [results[isa][1][op] for isa in ISAS]
        print(f"| {op} | " + " | ".join(f"{e:.2e}" for e in errors) + " |")
        base, amx = errors
        if amx != amx or amx > max(10 * base, 0.05):
            suspects.append(op)
    if results[ISAS[0]][0] == results[ISAS[1]][0]:
        print("both runs used the same instruction set (no AMX on this CPU): nothing to compare")
    else:
        print("wrong under AMX: " + (", ".join(suspects) if suspects else "none: AMX agrees with AVX512-BF16"))


if __name__ == "__main__":
    main()
