"""Width scan: tanh networks learning zero, H = 2 ... 128, across n.

For each width, one study (`efftheory.run_study`, resumable, via `efftheory.sweep`):
lambda-hat(n) with MCSE, the fitted exponent p of lambda-hat ~ alpha (log n)^p, and the top
rung against the free theory, the quenched prior average and the geometric values. Writes
``runs/`` (one study folder per width), ``scan.json``, ``scan.md`` and ``scan.png``.

    python experiments/width_scan.py OUT [--widths 2 4 8 16 32 64 128] [--n-max 1e6]

The widest points are slow on a CPU (H = 128 is the source post's 256-parameter model);
pass --scheduler to spread them over a Dask cluster, or run them on a GPU machine.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_common import run_scan, study_arguments, widths_between, write_scan  # noqa: E402


def main(argv=None) -> list[dict]:
    parser = study_arguments(__doc__.splitlines()[0], {})
    parser.add_argument("--widths", type=int, nargs="+", default=widths_between(2, 128))
    arguments = parser.parse_args(argv)
    rows = run_scan(arguments, [{"width": width} for width in arguments.widths])
    return write_scan(arguments.out, rows, "width",
                      f"tanh learning zero: width scan ({arguments.card}, n ≤ "
                      f"{arguments.n_max:g})")


if __name__ == "__main__":
    main()
