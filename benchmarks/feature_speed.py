"""How fast the temporal features are: conf/features/rolling.yaml on the paper mill and on 1M synthetic rows.

    python benchmarks/feature_speed.py            # writes benchmarks/RESULTS-features.md

Each measurement runs in its own process (so its peak RSS is its own): the features stage's run() on
the processed rows (after the label shift), median of 3 timings. The computation is vectorised over
whole columns (cumulative sums per window; pandas rolling within segments for min/max/ewma only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "paper_mill": ["+experiment=paper_mill_ae", "features=rolling"],
    "synthetic_1m": ["features=rolling", "data.synthetic.n_rows=1000000", "data.synthetic.grade_block_rows=5000"],
}


def measure(case: str, repeats: int) -> dict[str, float | int | str]:
    import pandas as pd

    from rarewatch.composition import compose
    from rarewatch.config import config_from_dict, with_absolute_data_paths
    from rarewatch.data import synthetic
    from rarewatch.stages import features, ingest, label_shift, preprocess

    cfg = with_absolute_data_paths(config_from_dict(compose(CASES[case])), ROOT)
    table, test, _ = ingest.load_source(cfg.data, ROOT) if cfg.data.source != "synthetic" else (
        synthetic.generate(cfg.data.synthetic), None, {})  # fmt: skip
    raw, _ = ingest.run(table, cfg.data, test)
    clean, _ = preprocess.run(raw, cfg)
    processed, _, _ = label_shift.run(clean, cfg.label_shift.horizon)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        out, report = features.run(processed, cfg)
        seconds.append(time.perf_counter() - start)
    assert isinstance(out, pd.DataFrame)
    return {
        "case": case,
        "rows": len(processed),
        "sensors": report["sensors"],
        "features": report["columns_added"],
        "seconds_median": statistics.median(seconds),
        "rows_per_second": len(processed) / statistics.median(seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_features_mb": rss_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS-features.md"))
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(args.case, args.repeats)))
        return
    rows = []
    for case in CASES:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        proc = subprocess.run([sys.executable, __file__, "--case", case, "--repeats", str(args.repeats)],
                              capture_output=True, text=True, cwd=ROOT, env=env, check=True)  # fmt: skip
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    lines = [
        "# Temporal features: speed and memory",
        "",
        "`python benchmarks/feature_speed.py` on a 2-core CPU: conf/features/rolling.yaml (windows 5, 15, 30; zscore, "
        "std, slope; diff; across-sensor aggregates), the features stage on the rows after the label shift, median "
        f"of {args.repeats}. Peak RSS is the measuring process's, data included.",
        "",
        "| data | rows | sensors | features added | seconds | rows / s | peak RSS MB | RSS before features MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['rows']:,} | {r['sensors']} | {r['features']} | {r['seconds_median']:.2f} | "
            f"{r['rows_per_second']:,.0f} | {r['peak_rss_mb']:,.0f} | {r['rss_before_features_mb']:,.0f} |"
        )
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
