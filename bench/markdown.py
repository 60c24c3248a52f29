"""Print bench/run.py JSON reports as the Markdown tables of docs/benchmarks.md.

Example: python bench/markdown.py emb-10k.json emb-100k.json emb-1m.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MIB = 2**20


def main(paths: list[str]) -> None:
    reports = [json.loads(Path(path).read_text()) for path in paths]
    for report in reports:
        print(f"\n#### {report['mode']}, {report['batches']:,} batches\n")
        print("| phase | cropflow s | floor s | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for phase in report["phases"]:
            floor = "" if phase["floor_seconds"] is None else f"{phase['floor_seconds']:.2f}"
            ratio = "" if phase["ratio"] is None else f"{phase['ratio']:.2f}"
            print(f"| {phase['phase']} | {phase['seconds']:.2f} | {floor} | {ratio} |")
        rss = ", ".join(f"{name} {size / MIB:.0f} MiB" for name, size in report["peak_rss_bytes"].items())
        print(
            f"\nEnd to end {report['batches_per_second']:,} batches/s; floor "
            f"{report['floor_batches_per_second']:,}/s: {report['throughput_vs_floor']:.0%} of the floor's "
            f"throughput. Peak RSS: {rss}. First day consumed: {report['first_day_batches']:,} batches."
        )


if __name__ == "__main__":
    main(sys.argv[1:])
