"""The `efftheory` command."""

import argparse
import importlib.metadata
import json
import sys
import types
import typing
import warnings
from pathlib import Path


def _version() -> str:
    """The installed distribution's version, else the package's `__version__`."""
    try:
        return importlib.metadata.version("efftheory")
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def _spectrum(arguments) -> int:
    from .modes._spectrum import spectrum, write_spectrum

    precision = arguments.precision
    if precision not in ("auto", "float64"):
        try:
            precision = int(precision)
        except ValueError:
            raise SystemExit(f"--precision must be 'auto', 'float64' or a number of digits, "
                             f"got {precision!r}.") from None
    result = spectrum(arguments.activation, arguments.measure, w=arguments.w, b=arguments.b,
                      samples=arguments.samples, prior_scale=arguments.prior_scale,
                      seed=arguments.seed, kmax=arguments.kmax,
                      precision=None if precision == "float64" else precision)
    paths = write_spectrum(result, arguments.out)
    for entry in result.fits:
        fit, predicted = entry["fit"], entry["predicted"]
        fitted = "no fit" if fit is None else (
            f"C = {fit['rate']:.4f} ± {fit['rate_stderr']:.4f}" if fit["law"] != "power"
            else f"p = {fit['exponent']:.4f} ± {fit['exponent_stderr']:.4f}")
        expected = ("" if predicted["constant"] is None
                    else f"  (predicted C = {predicted['constant']:.4f})")
        print(f"w = {entry['w']:+.4f}: {fitted}{expected}")
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    return 0


def _parse_assignments(pairs, flag):
    """KEY=VALUE strings -> dict, values read as JSON where possible (numbers, bools)."""
    values = {}
    for pair in pairs or []:
        key, separator, raw = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"{flag} takes KEY=VALUE, got {pair!r}.")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


#: Study settings without a flag, and why.
NO_FLAG = {"include_prior": "a study's ladder always starts at the prior rung n = 0"}


def _study_setting_fields():
    from .study._config import setting_fields

    return [(field, default) for field, default in setting_fields()
            if field.name not in NO_FLAG]


def _shown(default) -> str:
    """A default as `efftheory run --help` shows it (as --set would take it)."""
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, float):
        return f"{default:g}"
    return "none" if default == [] else str(default)


def _add_study_settings(run: argparse.ArgumentParser) -> None:
    """A flag for every study setting (`--draws`, `--adapt-ladder/--no-adapt-ladder`, ...),
    made from the fields of `Ladder`, `SamplerSettings` and `StudyConfig`: their help text,
    their type, and the default of a card without a preset."""
    for field, default in _study_setting_fields():
        flag = f"--{field.name.replace('_', '-')}"
        text = f"{field.metadata['help']} (default: the preset's, else {_shown(default)})"
        kind = field.type
        if isinstance(kind, types.UnionType):  # kmax: int | None
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        if kind is bool:
            run.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction,
                             default=None, help=text)
        elif typing.get_origin(kind) is list:
            run.add_argument(flag, dest=field.name, type=typing.get_args(kind)[0], nargs="+",
                             default=None, metavar="K", help=text)
        else:
            run.add_argument(flag, dest=field.name, type=kind, default=None, help=text)


def _run(arguments) -> int:
    from .study import PRESETS, run_study, study_config

    settings = _parse_assignments(arguments.set, "--set")
    for field, _ in _study_setting_fields():
        value = getattr(arguments, field.name)
        if value is not None:
            settings[field.name] = value
    overrides = _parse_assignments(arguments.override, "--override")
    if arguments.preset is None:
        config = study_config(arguments.card, **settings)
    elif arguments.preset in PRESETS:
        config = study_config(arguments.preset, card=arguments.card, **settings)
    else:
        raise ValueError(f"unknown preset {arguments.preset!r}; presets: {sorted(PRESETS)}.")
    if overrides:
        config = config.replace(overrides={**config.overrides, **overrides})
    from .study._results_folder import default_results_folder

    out = arguments.out or default_results_folder(config)
    from .sampling import SamplingWarning

    # Failed diagnostics are printed once, below, as plain lines: not also as warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        summary = run_study(config, out, restart=arguments.restart)
    power = summary["fits"].get("log_power")
    if power:
        print(f"lambda-hat ~ alpha (log n)^p: p = {power['exponent']:.3f} ± "
              f"{power['exponent_standard_error']:.2g} (reduced chi^2 "
              f"{power['reduced_chi_squared']:.3g})")
    for message in summary["diagnostics"]:
        print(f"diagnostic: {message}")
    print(f"wrote {out}/: report.md, summary.json, summary.csv, spectrum.png, "
          "learning_coefficient.png, free_energy.png, sampling/inference_data.nc")
    return 0


def _models(arguments) -> int:
    from .models._cards import format_model_table, list_models

    if arguments.json:
        print(json.dumps(list_models(), indent=2, default=str))
    else:
        print(format_model_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="efftheory",
        description="Bayesian free energy and learning coefficients across n: the effective "
                    "mode theory against singular learning theory.")
    parser.add_argument("--version", action="version", version=f"efftheory {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    spectrum = commands.add_parser(
        "spectrum", help="mode spectrum of an activation: CSV, JSON fit summary, PNG",
        description="Squared mode coefficients c_k(w)^2 of sigma(w x + b) for weights w given "
                    "or drawn from N(0, prior_scale^2), with fitted and predicted decay laws.")
    spectrum.add_argument("--activation", default="tanh",
                          help="tanh, erf, sigmoid, softplus, gelu or relu (default tanh)")
    spectrum.add_argument("--measure", default="gaussian",
                          help="gaussian, circle or uniform (default gaussian)")
    spectrum.add_argument("--w", type=float, nargs="+", default=None,
                          help="explicit weights; default: --samples draws from the prior")
    spectrum.add_argument("--b", type=float, default=0.0, help="bias (default 0)")
    spectrum.add_argument("--samples", type=int, default=8,
                          help="number of prior draws of w (default 8)")
    spectrum.add_argument("--prior-scale", type=float, default=1.0,
                          help="prior w ~ N(0, scale^2) (default 1)")
    spectrum.add_argument("--seed", type=int, default=0, help="seed of the prior draws")
    spectrum.add_argument("--kmax", type=int, default=201, help="highest mode (default 201)")
    spectrum.add_argument("--precision", default="auto",
                          help="'auto' (default), 'float64', or decimal digits for mpmath")
    spectrum.add_argument("--out", type=Path, default=Path("results/spectrum"),
                          help="output folder (default results/spectrum)")
    spectrum.set_defaults(handler=_spectrum)

    run = commands.add_parser(
        "run", help="a tempering study of one model card: measured against predicted",
        description="Sample a model card across a ladder of n, estimate lambda-hat(n) and "
                    "F(n), and compare with the effective mode theory and the geometric RLCTs. "
                    "Writes report.md, summary.json/csv, figures and the InferenceData.")
    run.add_argument("card", help="model card name (see `efftheory models`) or .toml path")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default results/<card>, or results/<card>-<changed "
                          "settings> when settings or overrides differ from the card's); "
                          "rerunning with the same settings resumes, with others refuses")
    run.add_argument("--restart", action="store_true",
                     help="discard the run already in the output folder and start over")
    run.add_argument("--preset", default=None,
                     help="named configuration (learning-zero-small, learning-zero-256, "
                          "learning-zero-256-gpu, learning-zero-circle); default: the card's "
                          "own preset if any")
    _add_study_settings(run)
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="any study setting by its name (e.g. --set chunk_size=50)")
    run.add_argument("--override", action="append", metavar="KEY=VALUE",
                     help="card parameter override (e.g. --override width=8)")
    run.set_defaults(handler=_run)

    models = commands.add_parser("models", help="list the model cards")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.set_defaults(handler=_models)

    from .sweeps._cli import add_sweep_parser

    add_sweep_parser(commands)
    return parser


def main(argv=None) -> int:
    from .models._quadrature_choice import QuadratureError

    arguments = build_parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except (ValueError, QuadratureError) as error:
        print(f"efftheory {arguments.command}: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # str(OSError) names the file ("[Errno 13] Permission denied: 'results/x'").
        print(f"efftheory {arguments.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
