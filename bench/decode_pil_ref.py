"""Decodes image files as torchvision's ImageFolder does (its default loader: PIL, then RGB), one
process, and prints the seconds it took (wall and CPU) as JSON. The reference for bench/decode-folder.ts.

usage: python3 bench/decode_pil_ref.py LIST_FILE   (one path per line)
"""
import json
import sys
import time

import numpy as np
from torchvision.datasets.folder import pil_loader


def main():
    files = open(sys.argv[1]).read().split("\n")
    files = [f for f in files if f]
    started, cpu = time.perf_counter(), time.process_time()
    total = 0
    for f in files:
        total += int(np.asarray(pil_loader(f)).shape[0])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"files": len(files), "seconds": seconds, "cpuSeconds": cpu, "rows": total}))


if __name__ == "__main__":
    main()
