"""Sampler settings and ladders (`efftheory.sampling._config`): one set of defaults, one
ladder builder, and the run folder's config.json as it always was."""

import dataclasses
import inspect

import numpy as np
import pytest

import efftheory as et
from efftheory.sampling import Ladder, SamplerConfig, SamplerSettings


def test_sample_has_the_sampler_settings_defaults():
    """`efftheory.sample`'s keywords are the settings, with the same defaults (`chunk_size`
    aside: None there picks min(100, warmup, draws))."""
    parameters = inspect.signature(et.sample).parameters
    for field in dataclasses.fields(SamplerSettings):
        expected = None if field.name == "chunk_size" else field.default
        assert parameters[field.name].default == expected, field.name
        assert parameters[field.name].kind is inspect.Parameter.KEYWORD_ONLY


def test_num_rungs_counts_every_rung():
    """One meaning: len(n_ladder), the prior rung n = 0 included, in Ladder,
    geometric_ladder, SamplerConfig and the study."""
    ladder = Ladder(n_min=1.0, n_max=1e3, num_rungs=5, include_prior=True)
    assert np.array_equal(ladder.n_ladder, et.geometric_ladder(1.0, 1e3, 5, include_prior=True))
    assert np.array_equal(ladder.n_ladder, [0.0, 1.0, 10.0, 100.0, 1e3])
    config = SamplerConfig(n_ladder=tuple(ladder.n_ladder.tolist()))
    assert config.num_rungs == 5
    assert len(et.study_config("regular-10", num_rungs=5, n_max=1e3).n_ladder) == 5
    assert np.array_equal(Ladder(n_min=2.0, n_max=2.0, num_rungs=1).n_ladder, [2.0])


def test_sampler_config_json_is_unchanged():
    """config.json of a run folder: the ladder first, then the settings in their old order;
    a file written before reads back."""
    before = ('{\n  "n_ladder": [\n    0.0,\n    1.0\n  ],\n  "chains": 2,\n  "draws": 30,\n'
              '  "warmup": 30,\n  "seed": 0,\n  "swap_every": 1,\n  "chunk_size": 30,\n'
              '  "store_positions": true,\n  "adapt_ladder": false,\n  "max_tree_depth": 10,\n'
              '  "target_accept_prob": 0.8,\n  "dense_mass": false,\n  "swap": true\n}')
    config = SamplerConfig.from_json(before)
    assert config == SamplerConfig(n_ladder=(0.0, 1.0), chains=2, draws=30, warmup=30,
                                   chunk_size=30)
    assert config.to_json() == before
    with pytest.raises(TypeError, match="n_ladder must be a tuple"):
        SamplerConfig(n_ladder=[0.0, 1.0])
