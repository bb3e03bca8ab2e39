"""A study's configuration: one ladder type, one set of sampler settings, flat names routed."""

import dataclasses
import json

import numpy as np
import pytest

import efftheory as et
from efftheory.sampling import Ladder, SamplerSettings
from efftheory.study import PRESETS, StudyConfig, study_config

#: Every preset as it was before the ladder and the sampler settings were split out of the
#: study config, the numbers its study must keep reproducing bit for bit: n_min, n_max and
#: the positive rungs; chains, warmup, draws, max_tree_depth, target_accept_prob and
#: store_positions (seed 0 and chunk_size 100 throughout).
PRESETS_BEFORE = {
    "learning-zero-small": ((1.0, 1e6, 15), (4, 400, 600, 8, 0.9, True)),
    "learning-zero-256": ((1.0, 1e8, 24), (4, 300, 400, 4, 0.8, True)),
    "learning-zero-256-gpu": ((1.0, 1e8, 33), (8, 1000, 2000, 6, 0.8, False)),
    "learning-zero-circle": ((1.0, 1e6, 19), (4, 500, 1000, 10, 0.9, True)),
}
SAMPLER_COLUMNS = ("chains", "warmup", "draws", "max_tree_depth", "target_accept_prob",
                   "store_positions")
#: What `efftheory.sample` did with the settings the study did not pass.
SAMPLE_DEFAULTS = dict(seed=0, chunk_size=100, swap_every=1, adapt_ladder=False,
                       dense_mass=False, swap=True)


def test_every_preset_is_checked_below():
    assert set(PRESETS) == set(PRESETS_BEFORE)


@pytest.mark.parametrize("name", sorted(PRESETS_BEFORE))
def test_presets_sample_what_they_sampled_before(name):
    (n_min, n_max, positive), values = PRESETS_BEFORE[name]
    sampler = dict(zip(SAMPLER_COLUMNS, values, strict=True))
    config = study_config(name)
    before = np.concatenate([[0.0], np.geomspace(n_min, n_max, positive)])
    assert np.array_equal(config.n_ladder, before)
    assert config.ladder.num_rungs == len(config.n_ladder) == positive + 1
    assert dataclasses.asdict(config.sampler) == {**sampler, **SAMPLE_DEFAULTS}
    assert config.fit_n_min == 10.0 and config.kmax is None and config.cutoff_modes == []


def test_a_bare_card_gets_the_sampler_settings_defaults():
    config = study_config("regular-10")
    assert config.sampler == SamplerSettings()
    assert (config.sampler.warmup, config.sampler.target_accept_prob) == (1000, 0.8)
    assert np.array_equal(config.n_ladder, np.concatenate([[0.0], np.geomspace(1.0, 1e5, 16)]))


def test_flat_names_are_routed_and_unknown_ones_refused():
    config = study_config("learning-zero-small", n_max=1e3, num_rungs=6, draws=20,
                          swap_every=2, adapt_ladder=True, dense_mass=True, kmax=21)
    assert config.ladder == Ladder(n_min=1.0, n_max=1e3, num_rungs=6, include_prior=True)
    assert (config.sampler.draws, config.sampler.warmup, config.sampler.swap_every,
            config.sampler.adapt_ladder, config.sampler.dense_mass) == (20, 400, 2, True, True)
    assert config.kmax == 21
    assert config.replace(chains=2).sampler.chains == 2
    assert config.replace(ladder=Ladder(n_min=1.0, n_max=10.0, num_rungs=3,
                                        include_prior=True), n_max=100.0).ladder.n_max == 100.0
    assert config.settings()["draws"] == 20 and config.settings()["n_max"] == 1e3
    with pytest.raises(ValueError, match=r"unknown study settings \['draw'\]; known: .*draws"):
        config.replace(draw=10)
    with pytest.raises(ValueError, match="include_prior must be true"):
        config.replace(include_prior=False)


def test_dict_forms_read_back():
    """`dataclasses.asdict`'s nested form and a sweep grid's flat form (card parameters
    beside the settings) both give the config."""
    config = study_config("learning-zero-256", draws=10, overrides={"form": "collapsed",
                                                                    "width": 4})
    assert StudyConfig.from_dict(json.loads(json.dumps(dataclasses.asdict(config)))) == config
    flat = StudyConfig.from_dict({"card": "learning-zero-small", "width": 3, "num_rungs": 4,
                                  "n_max": 100.0, "chains": 2})
    assert flat.overrides == {"width": 3} and flat.ladder.num_rungs == 4
    assert flat.sampler == SamplerSettings(chains=2)  # StudyConfig's defaults, not a preset's
    with pytest.raises(ValueError, match="needs a card"):
        StudyConfig.from_dict({"draws": 10})


@pytest.mark.parametrize("settings, error, message", [
    (dict(chunk_size="abc"), TypeError, "chunk_size must be an integer"),
    (dict(store_positions="no"), TypeError, "store_positions must be true or false"),
    (dict(target_accept_prob="high"), TypeError, "target_accept_prob must be a finite number"),
    (dict(adapt_ladder=True, warmup=100), ValueError, r"warmup >= 2\*chunk_size"),
])
def test_sampler_settings_are_checked_once(settings, error, message):
    """A wrong type is a TypeError for `sample`'s callers and a ValueError for the study's
    (the command line reports those as messages)."""
    with pytest.raises(error, match=message):
        SamplerSettings(**settings)
    with pytest.raises(ValueError, match=message):
        study_config("min-abs", **settings)


def test_adapt_ladder_with_cutoff_modes_is_refused():
    with pytest.raises(ValueError, match="drop adapt_ladder or cutoff_modes"):
        study_config("learning-zero-small", adapt_ladder=True, cutoff_modes=[1])


def test_the_study_passes_every_sampler_setting_to_sample(tmp_path, monkeypatch):
    seen = {}

    def sample(model, n_ladder, **kwargs):
        seen.update(kwargs, n_ladder=n_ladder)
        raise KeyboardInterrupt

    monkeypatch.setattr(et.sampling, "sample", sample)
    config = study_config("learning-zero-small", n_max=100.0, num_rungs=4, swap_every=3,
                          adapt_ladder=True, dense_mass=True, overrides={"width": 1})
    with pytest.raises(KeyboardInterrupt):
        et.run_study(config, tmp_path / "out", progress=False)
    assert {name: seen[name] for name in dataclasses.asdict(config.sampler)} == (
        dataclasses.asdict(config.sampler))
    assert np.array_equal(seen["n_ladder"], config.n_ladder)
