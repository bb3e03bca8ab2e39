"""A model beside the card it was built from: what `efftheory.load_card_model` returns."""

import dataclasses
from typing import TYPE_CHECKING

from ._partition import PartitionFunction

if TYPE_CHECKING:  # the card's types import every model class; the sampler needs none
    from ._card_schema import ModelCard


@dataclasses.dataclass(frozen=True)
class CardModel:
    """A `PartitionFunction` and the `ModelCard` it was built from.

    Attributes:
        model: the model to sample (`efftheory.sample` takes it, or the pair).
        card: the card after overrides: ``parameters`` are the builder's arguments as
            given, ``known_values`` the learning coefficients that still hold for them
            (catalogue-backed ones recomputed, others dropped where a parameter changed
            what they describe), ``num_params`` the built model's.

    Pass the pair, not ``pair.model``, to `efftheory.sample` where a run should name its
    card: its ``model.json`` then records the card's name and parameters, and
    `efftheory.resume(path)` rebuilds the model from them without being handed it.
    """

    model: PartitionFunction
    card: "ModelCard"

    def __post_init__(self):
        if not isinstance(self.model, PartitionFunction):
            raise TypeError(f"CardModel.model must be an efftheory.PartitionFunction, got "
                            f"{type(self.model).__name__}; build it with "
                            "efftheory.load_card_model(card, **overrides).")
