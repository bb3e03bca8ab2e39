"""Running a study: sample, analyse, write the artifacts; resumable, refusing other settings."""

import csv
import dataclasses
import io
import os
from pathlib import Path

import numpy as np

from .._io import atomic_save_figure, atomic_write_json, atomic_write_text
from ._analysis import geometric_values, summarize
from ._config import StudyConfig, study_config
from ._cutoff import add_cutoff_columns, cutoff_form, sample_cutoffs
from ._guards import sample_resumable
from ._inner_weights import posterior_inner_weight_size, quenched_prior_average
from ._kernel import prior_kernel_eigenvalues, spectrum_for_ladder
from ._report import render_report

SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
REPORT = "report.md"


def run_study(config: StudyConfig | dict | str, out: str | os.PathLike, *,
              progress: bool | None = None, restart: bool = False, **settings) -> dict:
    """Run (or resume) a study and write its artifacts to `out`; returns the summary dict.

    `config` is a `StudyConfig`, its dict form, or a card/preset name; `settings` override
    fields. Sampling checkpoints to ``out/checkpoint`` after every chunk, so an interrupted
    study resumes where it stopped when run again with the same arguments. A folder holding
    a run with other settings is refused (the error names them) unless `restart=True`,
    which discards that run; a file, an unwritable path or a non-empty folder that is not
    an efftheory results folder is refused before any work.
    """
    from . import _results_folder
    from ._guards import load_study_model

    if isinstance(config, str):
        config = study_config(config, **settings)
    elif isinstance(config, dict):
        # Flat sweep grids name card parameters (width, activation, ...) beside study
        # settings; whatever is not a study setting is a card override.
        config = StudyConfig.from_dict({**config, **settings})
    elif settings:
        config = config.replace(**settings)
    out = _results_folder.check_output_folder(out)
    card_model = load_study_model(config)
    model = card_model.model
    if config.cutoff_modes:
        cutoff_form(config, model)  # refuse a model without a mode basis before any work
    eigenvalues, rank_cap, floor = prior_kernel_eigenvalues(model, config.kmax)
    eigenvalues, floor, spectrum_source = spectrum_for_ladder(model, eigenvalues, floor,
                                                              rank_cap, config.ladder.n_max)
    geometric = geometric_values(card_model.card)

    sampler_settings = {**dataclasses.asdict(config.sampler), "progress": progress}
    if restart:
        _results_folder.discard_study(out)
    # A folder without a status (new, restarted, or from an older efftheory) is not known to
    # hold a finished study; a finished one keeps its mark unless the rerun is accepted.
    _results_folder.mark_running(out, config)
    result = sample_resumable(out, _results_folder.CHECKPOINT, card_model, config.n_ladder,
                              sampler_settings, restart=restart)
    result.save(out / _results_folder.SAMPLING)
    cutoffs = sample_cutoffs(config, model, out, sampler_settings, restart=restart)

    quenched = quenched_prior_average(model, np.asarray(result.n_ladder),
                                      seed=config.sampler.seed)
    summary = summarize(config, card_model, result, eigenvalues, rank_cap, geometric, quenched,
                        eigenvalue_floor=floor)
    summary["kernel_eigenvalues_source"] = spectrum_source
    sizes = posterior_inner_weight_size(model, result)
    if sizes is not None:
        for row, size in zip(summary["rungs"], sizes, strict=True):
            row["posterior_mean_abs_w"] = float(size)
    add_cutoff_columns(summary, cutoffs, eigenvalues)
    write_artifacts(out, summary, eigenvalues)
    _results_folder.mark_complete(out, config)
    return summary


def write_artifacts(out: Path, summary: dict, eigenvalues) -> None:
    """summary.json, summary.csv, the three figures and report.md (atomic writes)."""
    from ._plots import plot_free_energy, plot_learning_coefficient, plot_study_spectrum

    atomic_write_json(out / SUMMARY_JSON, summary)
    columns = list(summary["rungs"][0].keys())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in summary["rungs"]:
        writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in columns})
    atomic_write_text(out / SUMMARY_CSV, buffer.getvalue())
    for name, plot in (("spectrum.png", plot_study_spectrum),
                       ("learning_coefficient.png", plot_learning_coefficient),
                       ("free_energy.png", plot_free_energy)):
        figure = plot(summary)
        atomic_save_figure(figure, out / name, dpi=130)
    atomic_write_text(out / REPORT, render_report(summary))

