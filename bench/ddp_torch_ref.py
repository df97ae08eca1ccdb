"""PyTorch's own data-parallel BYOL step: the model of ../shared/bench/byol_torch_ref.py (Lightly's
BYOL example) under torch.nn.parallel.DistributedDataParallel over Gloo, launched by torchrun.
The step is the reference's `--mode compute` step: two fixed views of random images per rank,
momentum update, both networks' forwards, symmetric loss, backward (DDP all-reduces the gradients
in buckets during it), SGD. Rank 0 prints one JSON line with the global images/s.

  python3 -m torch.distributed.run --nproc_per_node 2 --redirects 9:0 --tee 9:0 \\
      bench/ddp_torch_ref.py --reference ../shared/bench/byol_torch_ref.py --batch 256
(`--redirects 9:0 --tee 9:0`: Debian's launcher cannot parse its own default on Python 3.11.)
"""
import argparse
import importlib.util
import json
import os
import time

import torch
import torch.distributed as dist


class Step(torch.nn.Module):
    """One forward of DDP covers both views, as Lightning's training_step under DDP does."""

    def __init__(self, byol, ncs):
        super().__init__()
        self.byol = byol
        self.ncs = ncs

    def forward(self, x0, x1):
        p0, p1 = self.byol(x0), self.byol(x1)
        z0, z1 = self.byol.forward_momentum(x0), self.byol.forward_momentum(x1)
        return 0.5 * (self.ncs(p0, z1) + self.ncs(p1, z0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True, help="path of byol_torch_ref.py (its model and views)")
    ap.add_argument("--batch", type=int, default=256, help="global batch")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu (Gloo) or cuda (NCCL, the GPU of LOCAL_RANK)")
    args = ap.parse_args()

    spec = importlib.util.spec_from_file_location("byol_torch_ref", args.reference)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)

    cuda = args.device.startswith("cuda")
    dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(dev)
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    byol = ref.BYOL("imagenet").to(dev)
    model = torch.nn.parallel.DistributedDataParallel(Step(byol, ref.ncs), device_ids=[dev] if cuda else None)
    opt = torch.optim.SGD([p for p in byol.parameters() if p.requires_grad], lr=0.06)

    per_rank = args.batch // world
    x = torch.from_numpy(ref.load_images("", per_rank)).permute(0, 3, 1, 2).contiguous().to(dev)
    g = torch.Generator(device=dev)
    g.manual_seed(rank)
    v0, v1 = ref.gpu_views(x, 0.0, g), ref.gpu_views(x, 0.2, g)

    def steps(k):
        for _ in range(k):
            ref.update_momentum(byol.backbone, byol.backbone_momentum, 0.996)
            ref.update_momentum(byol.projection_head, byol.projection_head_momentum, 0.996)
            loss = model(v0, v1)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        return loss

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)
        dist.barrier()

    steps(args.warmup)
    sync()
    t = time.perf_counter()
    loss = steps(args.steps)
    sync()
    dt = time.perf_counter() - t
    if rank == 0:
        out = dict(mode="ddp", world=world, threads=threads, device=str(dev), batch=args.batch, steps=args.steps,
                   images_per_s=round(args.batch * args.steps / dt, 1), seconds=round(dt, 3),
                   loss=round(float(loss), 5), torch=torch.__version__)
        print(json.dumps(out), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
