"""Learning curves of the architecture experiment (benchmarks/arch_experiment.sh), side by side.

    python -m benchmarks.arch_report runs/arch [--throughput small=100,small-jamo=98,h32=48]

For each run: validation CER (and exact-line accuracy) at every validation, against the step, the
samples seen, the wall-clock minutes the run really took, and the CPU minutes it would take alone
(samples / the candidate's training samples/s measured alone, ``--throughput``). Wall-clock minutes
on a shared machine mix in whatever else ran; the "alone" column is the fair x-axis.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def read_validations(run: Path) -> list[dict[str, float]]:
    rows = []
    with (run / "log.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("valid_cer"):
                rows.append({k: float(v) for k, v in row.items() if v})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.arch_report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--throughput", default="", help="NAME=samples/s alone, comma-separated")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    speeds = {k: float(v) for k, v in (item.split("=") for item in args.throughput.split(",") if item)}
    runs = sorted(p.parent for p in args.root.glob("*/log.csv"))
    print(f"{'run':<12} {'step':>6} {'samples':>9} {'wall min':>9} {'alone min':>9} {'CER':>7} {'exact':>7}")
    for run in runs:
        for row in read_validations(run):
            samples = int(row["step"]) * args.batch_size
            alone = samples / speeds[run.name] / 60 if run.name in speeds else float("nan")
            print(
                f"{run.name:<12} {int(row['step']):>6} {samples:>9,} {row['elapsed_s'] / 60:>9.1f} "
                f"{alone:>9.1f} {row['valid_cer']:>7.4f} {row['valid_accuracy']:>7.2%}"
            )


if __name__ == "__main__":
    main()
