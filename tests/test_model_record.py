"""What a run folder records of its model: a card beside the model, or a fingerprint."""

import json
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import efftheory as et
from efftheory.sampling import RunFolderMismatchError, SamplingWarning
from efftheory.sampling._model_record import describe_model

LADDER = [0.0, 1.0, 10.0]
TINY = dict(chains=1, warmup=4, draws=4, chunk_size=4, progress=False)


def test_a_card_model_run_resumes_without_its_model(tmp_path):
    folder = tmp_path / "run"
    pair = et.load_card_model("regular-10", prior_scale=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        result = et.sample(pair, LADDER, checkpoint_dir=folder, **TINY)
        record = json.loads((folder / "model.json").read_text())
        assert record == {"class": "RegularModel", "num_params": 10, "kind": "card",
                          "card": "regular-10", "card_path": str(pair.card.path),
                          "parameters": {"dim": 10, "prior_scale": 2.0}}
        np.testing.assert_array_equal(et.resume(folder).energy, result.energy)
        np.testing.assert_array_equal(et.resume(folder, pair).energy, result.energy)
        # The model without its card is not the run's: say how to pass it.
        for attempt in (lambda: et.resume(folder, pair.model),
                        lambda: et.sample(pair.model, LADDER, checkpoint_dir=folder,
                                          if_exists="resume", **TINY)):
            with pytest.raises(RunFolderMismatchError, match="load_card_model"):
                attempt()


def test_a_model_without_its_card_is_recorded_by_fingerprint():
    model = et.load_model("regular-10")
    assert not hasattr(model, "card")
    assert describe_model(model) == describe_model(et.RegularModel(10))
    assert describe_model(model)["kind"] == "python"
    with pytest.raises(TypeError, match="CardModel.model must be"):
        et.CardModel(et.load_card("regular-10"), et.load_card("regular-10"))
    with pytest.raises(et.ModelCardError, match="load_model"):
        et.load_card_model("learning-zero-small", data=(np.zeros((3, 1)), np.zeros(3)))


def test_fingerprints_of_older_runs_still_match():
    """Until the card became metadata these models had a ``card=None`` field, and records
    of them hold fingerprints taken with it printed (values written by efftheory then)."""
    network = et.TwoLayerNetwork(2, "tanh", "gaussian")
    recorded = {
        "fb71265905b00c4c7139926169881d06": et.RegularModel(2),
        "e2a346aecf26b079f815ec9cab294068": et.LocalizedModel(et.RegularModel(2),
                                                              jnp.zeros(2)),
        # A NetworkModel inside: the population loss beside the empirical one.
        "d65903dd903b0b789f7abfbf1a6d4d98": et.EmpiricalNetworkModel(
            network, np.linspace(-1, 1, 5)[:, None], np.zeros(5), n_max=1e3),
    }
    for fingerprint, model in recorded.items():
        assert describe_model(model)["fingerprint"] == fingerprint, type(model).__name__


def test_a_run_folder_from_before_the_subpackages_resumes(tmp_path):
    """A record names a model's class, never its module, and the fingerprint prints no
    module either: moving the models into `efftheory.models` (issue 14) leaves older run
    folders valid. The records below are verbatim what efftheory wrote when these classes
    were `efftheory._models.NetworkModel` and so on."""
    network = et.TwoLayerNetwork(2, "tanh", "gaussian")
    model = et.NetworkModel(network, n_max=1e3)
    folder = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        result = et.sample(model, LADDER, checkpoint_dir=folder, **TINY)
        (folder / "model.json").write_text(json.dumps(
            {"class": "NetworkModel", "num_params": 4, "kind": "python",
             "fingerprint": "3b88817eef17d0a300bb595c57d9cabd"}, indent=2))
        np.testing.assert_array_equal(et.resume(folder, model).energy, result.energy)
    recorded = {
        "c61e33110d93f16dc600a12f21cb4a0c": et.CollapsedNetworkModel(network, n_max=1e3),
        "514834bf14f9693c4a387559e0b0fbf9": et.CutoffNetworkModel(network, 3, n_max=1e3),
        "07ce9e49600d91812e73d83785ddd93f": et.FreeFieldModel(np.ones(5) / 2),
    }
    for fingerprint, other in recorded.items():
        assert describe_model(other)["fingerprint"] == fingerprint, type(other).__name__
        assert "module" not in describe_model(other)
