"""How long the risk-of-bias figures take to draw (by hand).

    python bench/appraisal_plots.py                 # 42, 150 and 500 studies
    python bench/appraisal_plots.py --studies 1000

Draws the JBI traffic-light plot (SVG, PNG, PDF) and the summary plot (SVG) for N studies
with synthetic judgements, as the results page and the export ZIP do, and prints the
seconds each took (best of three) and the SVG's size. Needs no database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")


def main() -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting chatter
    from extraction.appraisal.plots import Plotted, summary, traffic_light
    from extraction.appraisal.tools import shipped

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, nargs="+", default=[42, 150, 500])
    args = parser.parse_args()
    tool = shipped()["jbi-case-series"]
    levels = ["low"] * 6 + ["some", "some", "high", "na"]
    for count in args.studies:
        rng = random.Random(count)
        data = Plotted(
            title=f"{tool.short}: {count} studies",
            domains=[(d.key, d.name) for d in tool.domains],
            level_names=dict(tool.levels),
            overall_names=dict(tool.overall_levels),
            studies=[
                (
                    f"Author{n} {1990 + n % 30}",
                    rng.randint(3, 60),
                    {**{d.key: rng.choice(levels) for d in tool.domains}, "overall": "low"},
                )
                for n in range(count)
            ],
            weighted=True,
        )
        timings = []
        for name, draw, fmt in (
            ("traffic light svg", traffic_light, "svg"),
            ("traffic light png", traffic_light, "png"),
            ("traffic light pdf", traffic_light, "pdf"),
            ("summary svg", summary, "svg"),
        ):
            best, size = float("inf"), 0
            for _ in range(3):
                start = time.perf_counter()
                size = len(draw(data, fmt))  # type: ignore[operator]
                best = min(best, time.perf_counter() - start)
            timings.append(f"{name} {best:.2f} s ({size / 1024:.0f} KiB)")
        print(f"{count} studies: " + "; ".join(timings))


if __name__ == "__main__":
    main()
