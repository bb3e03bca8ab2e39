"""Memory estimated and refused before anything is built (issue 16, item 5)."""

import pytest

import efftheory as et
from efftheory.models import _cards
from efftheory.study._guards import load_study_model
from efftheory.study._resources import (
    MEMORY_LIMIT_VARIABLE,
    ResourceError,
    memory_limit,
    parse_bytes,
    study_memory_terms,
)


def test_huge_width_is_refused_before_building(monkeypatch):
    monkeypatch.setattr(_cards, "load_card_model",
                        lambda *a, **k: pytest.fail("built the model"))
    config = et.study_config("learning-zero-small", overrides={"width": 10**9})
    with pytest.raises(ResourceError, match=MEMORY_LIMIT_VARIABLE) as error:
        load_study_model(config)
    assert "--override width" in str(error.value)


def test_stored_positions_are_counted(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "1MB")
    config = et.study_config("regular-10", draws=10**5)
    with pytest.raises(ResourceError, match="store_positions"):
        load_study_model(config)
    load_study_model(config.replace(store_positions=False))


def test_the_limit_can_be_raised(monkeypatch):
    config = et.study_config("learning-zero-small", overrides={"width": 4096})
    terms = study_memory_terms(config, "two_layer", {**_cards.load_card(
        "learning-zero-small").parameters, "width": 4096})
    needed = max(terms.values())
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, str(int(needed / 2)))
    with pytest.raises(ResourceError):
        _check(config)
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, str(int(needed * 2)))
    _check(config)


def _check(config):
    from efftheory.study._resources import check_study_memory

    parameters = {**_cards.load_card(config.card).parameters, **config.overrides}
    check_study_memory(config, "two_layer", parameters)


def test_parse_bytes_and_default_limit(monkeypatch):
    assert parse_bytes("64GB") == 64 * 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("1000") == 1000
    with pytest.raises(ResourceError, match=MEMORY_LIMIT_VARIABLE):
        parse_bytes("lots")
    monkeypatch.delenv(MEMORY_LIMIT_VARIABLE, raising=False)
    assert memory_limit() > 10**8
