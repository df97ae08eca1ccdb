#!/usr/bin/python3
"""The kNN similarity block on the CPU: a matrix product (the system BLAS) against the same
product as a 1x1 convolution (oneDNN), at the shapes of CIFAR-10's kNN evaluation (a bank of
50,000 x 512 features, query blocks of 256). Uses Debian's python3-torch, which loads the same
libtorch, BLAS and oneDNN as byol. Prints one JSON line with the seconds per block of each route.
    /usr/bin/python3 bench/knn_route.py [--bank 50000] [--dim 512] [--chunk 256] [--blocks 8]
"""
import argparse
import json
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--bank", type=int, default=50000)
ap.add_argument("--dim", type=int, default=512)
ap.add_argument("--chunk", type=int, default=256)
ap.add_argument("--blocks", type=int, default=8)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)
bank = torch.nn.functional.normalize(torch.randn(args.bank, args.dim), dim=1)
queries = torch.nn.functional.normalize(torch.randn(args.blocks * args.chunk, args.dim), dim=1)
bank_t = bank.t().contiguous()
bank_conv = bank.contiguous().view(args.bank, args.dim, 1, 1)


def matmul(f):
    return f @ bank_t


def conv(f):
    return torch.conv2d(f.t().contiguous().view(1, args.dim, f.shape[0], 1), bank_conv).view(args.bank, f.shape[0]).t().contiguous()


def seconds(route):
    blocks = queries.split(args.chunk)
    route(blocks[0])  # warm-up (oneDNN generates its kernel, the BLAS its buffers)
    start = time.perf_counter()
    for f in blocks:
        route(f)
    return (time.perf_counter() - start) / len(blocks)


with torch.no_grad():
    assert torch.allclose(matmul(queries[:64]), conv(queries[:64]), atol=1e-5)
    result = {"matmul_s": seconds(matmul), "conv1x1_s": seconds(conv), "matmul_again_s": seconds(matmul)}
print(json.dumps({"bench": "knn_route", "torch": torch.__version__, "bank": args.bank, "chunk": args.chunk, **result}))
