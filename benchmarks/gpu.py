"""Images per second and time to R² ≥ 0.9 on a CUDA device (or the CPU), at 64×64.

For each batch size (default 512 and 1024): the renderer's throughput on the device
(``th.mixings.Sprites`` run on device tensors, float32), the augmentation's
(``content-style-pixels``' translation + colour jitter), and a training run of the
``content-style-pixels`` learner (InfoNCE, the CNN encoder) on the 64×64 version of its
canonical process on ``--device``: training images per second (2 × batch × steps /
training seconds; the pairs are rendered by the process on the CPU) and the training
time at which the content's held-out block R² first reached ``--threshold`` (monitored
every 50 steps, monitoring not counted), within ``--budget`` seconds. One table.

Run: python benchmarks/gpu.py [--device auto|cuda|cpu] [--batches 512 1024] [--budget 600]
``--device auto`` (the default) uses CUDA when a device is visible and falls back to the
CPU otherwise; ``--device cpu`` forces the CPU (e.g. to try the script end to end).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

import theory as th
from theory.pixel_theorems import content_style_sprites

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pixels import train_until


def resolve(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device is visible: use --device cpu (or auto)")
    return device


def throughput(fn, images: int, device: str, repeats: int = 5) -> float:
    """Images per second of ``fn`` (best of ``repeats`` after a warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return images / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cuda, cuda:N or cpu")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batches", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds per run")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--precision",
        choices=["fp32", "bf16", "fp16"],
        default="fp32",
        help="train.precision: mixed precision on a CUDA device (full precision on a CPU)",
    )
    args = parser.parse_args()
    device = resolve(args.device)
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU"
    print(
        f"device {device} ({name}); torch {torch.__version__}; {args.size}×{args.size}; "
        f"budget {args.budget:g} s; precision {args.precision}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    theorem = th.theorems.get("content-style-pixels")
    process = content_style_sprites(size=args.size)
    g, cond = process.mixing, process.conditional
    rows = []
    for batch in args.batches:
        z = process.latent.sample(batch, 0).to(device=device, dtype=torch.float32)
        x = g(z)
        render = throughput(lambda z=z: g(z), batch, device)
        rng = np.random.default_rng(0)
        augment = throughput(lambda z=z, x=x, rng=rng: cond.augment(z, x, rng, g), batch, device)
        result = train_until(
            theorem,
            process,
            seed=args.seed,
            budget=args.budget,
            threshold=args.threshold,
            options={
                "device": device,
                "train.batch_size": batch,
                "train.precision": args.precision,
            },
        )
        trained = 2 * batch * result["steps"] / max(result["seconds"], 1e-9)
        rows.append((batch, render, augment, trained, result))
    print(
        f"\n| batch | render img/s | augment img/s | train img/s | steps | content R² | "
        f"s to R² ≥ {args.threshold:g} |\n|---|---|---|---|---|---|---|"
    )
    for batch, render, augment, trained, r in rows:
        when = "—" if r["time_to_threshold"] is None else f"{r['time_to_threshold']:.0f}"
        print(
            f"| {batch} | {render:,.0f} | {augment:,.0f} | {trained:,.0f} | {r['steps']} | "
            f"{r['content_r2']:.3f} | {when} |"
        )


if __name__ == "__main__":
    main()
