"""PyTorch references for bench/embed-batch.ts: torchvision's ResNet-18 backbone (fc removed, the
7x7 stem) embedding uint8 32x32 images (normalised as byol does) at each batch size for a fixed
time on N threads, two ways:
  eager   the module in eval mode and channels-last, under inference_mode;
  frozen  torch.jit.optimize_for_inference of the scripted module: BatchNorm folded into the
          convolutions, weights packed for oneDNN, ReLUs fused (what PyTorch offers for serving).
Prints {"eager": {batch: images/s}, "frozen": {...}} as JSON.

usage: python3 bench/embed_torch_ref.py --batches 1,32,64 --seconds 3 --threads 1
"""
import argparse
import json
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,32,64")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Identity()
    model = model.eval()
    models = {
        "eager": model.to(memory_format=torch.channels_last),
        "frozen": torch.jit.optimize_for_inference(torch.jit.script(model)),
    }
    print(json.dumps({name: rates(m, args) for name, m in models.items()}))


def rates(model, args):
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    out = {}
    with torch.inference_mode():
        for b in [int(x) for x in args.batches.split(",")]:
            images = torch.randint(0, 256, (b, args.size, args.size, 3), dtype=torch.uint8)

            def embed():
                x = images.permute(0, 3, 1, 2).float().div(255).sub(mean).div(std)
                return model(x.contiguous(memory_format=torch.channels_last))

            for _ in range(3):
                embed()
            n, started = 0, time.perf_counter()
            while time.perf_counter() - started < args.seconds:
                embed()
                n += b
            out[b] = n / (time.perf_counter() - started)
    return out


if __name__ == "__main__":
    main()
