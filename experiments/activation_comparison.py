"""Activation comparison: tanh, erf, sigmoid and relu networks learning zero, across n.

Same protocol as the width scan at a fixed width (default 16): the activation sets the mode
spectrum (tanh: poles at ±i pi/2, |c_k|^2 ~ exp(-pi sqrt k); sigmoid: poles at ±i pi; erf:
entire; relu: a power law), and with it how fast lambda-hat(n) grows. Geometric values are
shown only where a card's formula applies (the Aoyagi-Watanabe value is for tanh).

    python experiments/activation_comparison.py OUT [--activations tanh erf sigmoid relu]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_common import run_scan, study_arguments, write_scan  # noqa: E402


def main(argv=None) -> list[dict]:
    parser = study_arguments(__doc__.splitlines()[0], {})
    parser.add_argument("--activations", nargs="+", default=["tanh", "erf", "sigmoid", "relu"])
    parser.add_argument("--width", type=int, default=16)
    arguments = parser.parse_args(argv)
    rows = run_scan(arguments, [{"activation": activation, "width": arguments.width}
                                for activation in arguments.activations])
    return write_scan(arguments.out, rows, "activation",
                      f"Activation comparison at width {arguments.width} (n ≤ "
                      f"{arguments.n_max:g})")


if __name__ == "__main__":
    main()
