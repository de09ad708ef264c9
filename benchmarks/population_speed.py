"""Speed of populations: q configurations x 5 folds as one network against one trial at a time.

The same configurations, drawn at random from a search space, are cross-validated on
teleconnect twice: one trial at a time with today's batched trainer
(:func:`harness.evaluate_config`, the K folds of a trial as one network) and in
populations of q trials (:func:`harness.study.evaluation.evaluate_population`, q x K
members trained together). The two are interleaved population by population, on one
torch thread, and timed in process CPU seconds. Reported: trials per CPU-second of each,
their ratio (the speed-up), and how the space's configurations group into networks.

``--quick`` runs mlp-small at q = 1 and 8 only and ends with the line
``population speed-up at q=8: N.NNx``. ``--device cuda`` trains on a GPU, at q = 1, 8,
64, 128 and 256 (``--quick``: 1 and 64, ending with ``population speed-up at q=64:
N.NNx``; the target there is 10x), and writes its own section; the ratio is then of wall
seconds (CPU seconds measure what the GPU leaves the CPU to do: launch overhead; they are
reported beside them). Without a CUDA device it says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_note, write_section

from harness.data.datasets import load_dataset
from harness.data.preprocessing import holdout_split
from harness.model import fold_trainer, population
from harness.model.pipeline import build_pipeline
from harness.search.space import load_space
from harness.study.evaluation import (
    FoldPreprocessor,
    evaluate_config,
    evaluate_population,
    make_folds,
)
from harness.study.guards import TrialStopped

NAME = "population-speed"
QS = (1, 2, 4, 8, 16, 32)
QUICK_QS = (1, 8)
TARGET = 3.0  # the target speed-up at q = 8 on mlp-small, on a 2-core CPU
GPU_QS = (1, 8, 64, 128, 256)
GPU_QUICK_QS = (1, 64)
GPU_TARGET = 10.0  # at q = 64, against one trial at a time on the same GPU


def draw_configs(space_name: str, n: int, seed: int, max_epochs: int | None) -> list[dict]:
    """``n`` configurations of the space, drawn by a seeded random sampler."""
    space = load_space(space_name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    configs = []
    for _ in range(n):
        trial = study.ask()
        config = space.suggest(trial)
        study.tell(trial, 0.0)
        if max_epochs is not None:
            config["max_epochs"] = min(int(config.get("max_epochs", max_epochs)), max_epochs)
        configs.append(config)
    return configs


def networks(configs: list[dict], dataset, folds, device: str) -> int:
    """How many networks a population of ``configs`` trains (how the space groups)."""
    y = dataset.y.to_numpy()
    X_train, _ = FoldPreprocessor(dataset).fit_transform(*folds[0])
    n_classes = len(np.unique(y))
    specs = [
        fold_trainer.net_spec_like_estimator(
            build_pipeline(config, dataset, y[folds[0][0]])[-1], X_train.shape[1], n_classes
        )
        for config in configs
    ]
    members = [spec for spec in specs for _ in folds]  # a configuration's K fold members
    return len(population.group_members(members, device))


def with_device(configs: list[dict], device: str) -> list[dict]:
    return [{**config, "device": device} for config in configs] if device != "cpu" else configs


def measure(configs, dataset, folds, q: int, device: str, repeats: int) -> dict[str, float]:
    """CPU and wall seconds of one-at-a-time and population training of ``configs``."""
    chunks = [configs[start : start + q] for start in range(0, len(configs), q)]
    cpu = {"one": [], "population": []}
    wall = {"one": [], "population": []}
    for _ in range(repeats):
        totals = {name: [0.0, 0.0] for name in cpu}
        for chunk in chunks:  # interleaved chunk by chunk
            for name in ("one", "population"):
                start_cpu, start_wall = time.process_time(), time.perf_counter()
                if name == "one":
                    for config in chunk:
                        # a diverging configuration stops as it does in a study
                        with contextlib.suppress(TrialStopped):
                            evaluate_config(config, dataset, folds, trainer="batched")
                else:
                    evaluate_population(chunk, dataset, folds)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                totals[name][0] += time.process_time() - start_cpu
                totals[name][1] += time.perf_counter() - start_wall
        for name, (c, w) in totals.items():
            cpu[name].append(c)
            wall[name].append(w)
    return {
        "one_cpu": statistics.median(cpu["one"]),
        "pop_cpu": statistics.median(cpu["population"]),
        "one_wall": statistics.median(wall["one"]),
        "pop_wall": statistics.median(wall["population"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="mlp-small, q = 1 and 8, 1 repeat")
    parser.add_argument("--device", default="cpu", help='"cpu" (default) or "cuda"')
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=30,
        help="cap on a configuration's epochs (mlp trains up to 100; mlp-small 30)",
    )
    parser.add_argument("--qs", default=None, help="comma-separated population sizes")
    parser.add_argument("--write", action="store_true", help="rewrite the BENCHMARKS.md section")
    args = parser.parse_args()
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print(
            f"population speed: skipped: --device {args.device} needs a CUDA GPU and none "
            "is available here"
        )
        return
    qs = (GPU_QUICK_QS if args.quick else GPU_QS) if cuda else (QUICK_QS if args.quick else QS)
    if args.qs:
        qs = tuple(int(q) for q in args.qs.split(","))
    spaces = ("mlp-small",) if args.quick else ("mlp-small", "mlp")
    n_configs = max(qs)
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dataset, _ = holdout_split(load_dataset("teleconnect"), 0.2, 0)
    folds = make_folds(dataset, 5, 0)
    load_before = os.getloadavg()[0]
    rows = []
    with threadpool_limits(1):
        for space in spaces:
            configs = with_device(draw_configs(space, n_configs, 0, args.max_epochs), args.device)
            evaluate_population(configs[:2], dataset, folds)  # warm-up
            for q in qs:
                result = measure(configs, dataset, folds, q, args.device, args.repeats)
                groups = np.mean(
                    [
                        networks(configs[s : s + q], dataset, folds, args.device)
                        for s in range(0, n_configs, q)
                    ]
                )
                rows.append((space, q, groups, result))
                print(
                    f"{space} q={q}: one at a time {n_configs / result['one_cpu']:.2f} "
                    f"trials/CPU-s, population {n_configs / result['pop_cpu']:.2f} "
                    f"({result['one_cpu'] / result['pop_cpu']:.2f}x)",
                    flush=True,
                )
    load_after = os.getloadavg()[0]
    lines = [
        "| space | q | networks per population | one at a time (trials/CPU-s) "
        "| population (trials/CPU-s) | speed-up (CPU) | speed-up (wall) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for space, q, groups, r in rows:
        lines.append(
            f"| {space} | {q} | {groups:.1f} | {n_configs / r['one_cpu']:.2f} | "
            f"{n_configs / r['pop_cpu']:.2f} | {r['one_cpu'] / r['pop_cpu']:.2f}x | "
            f"{r['one_wall'] / r['pop_wall']:.2f}x |"
        )
    text = "\n".join(lines)
    note = (
        f"{n_configs} configurations per space drawn at random (seed 0), max_epochs capped at "
        f"{args.max_epochs}; teleconnect's search rows, 5 folds; device {args.device}, one "
        f"torch thread; median of {args.repeats} repeat(s), one-at-a-time and population "
        f"interleaved population by population. torch {torch.__version__}."
    )
    # the target's ratio: CPU seconds on a CPU, wall seconds on a GPU (the CPU only launches)
    clock, target_q, target = ("wall", 64, GPU_TARGET) if cuda else ("cpu", 8, TARGET)
    at_target = [
        r[f"one_{clock}"] / r[f"pop_{clock}"]
        for space, q, _, r in rows
        if (space, q) == ("mlp-small", target_q)
    ]
    verdict = ""
    if at_target:
        met = "met" if at_target[0] >= target else "not met"
        verdict = (
            f"Target at q = {target_q} on mlp-small: at least {target:.0f}x ({clock} seconds); "
            f"measured {at_target[0]:.2f}x ({met})."
        )
    if cuda:
        verdict += f" GPU: {torch.cuda.get_device_name()}."
    else:
        verdict += (
            " GPU: not measured (no CUDA device where this ran); `--device cuda` runs the "
            "same benchmark on one."
        )
    print("", text, "", note, verdict, sep="\n")
    if args.write and not args.quick:
        write_section(
            f"{NAME}-gpu" if cuda else NAME,
            f"## Population speed{' on a GPU' if cuda else ''}: q trials x 5 folds in one "
            f"network\n\n`python benchmarks/population_speed.py "
            f"{'--device cuda ' if cuda else ''}--write`\n\n{note}\n\n{text}\n\n"
            f"{verdict}\n\n{machine_note(load_before, load_after)}",
        )
    if at_target:
        print(f"population speed-up at q={target_q}: {at_target[0]:.2f}x")


if __name__ == "__main__":
    main()
