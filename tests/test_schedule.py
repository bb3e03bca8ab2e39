"""The communication barrier and the equalized schedule (`efftheory.sampling._schedule`)."""

import numpy as np
import pytest

from efftheory.sampling._schedule import (
    communication_barrier,
    equalized_schedule,
    round_trip_rate_bound,
)


def _barrier(log_n):
    # A cumulative barrier concentrated at large n, as for a singular model whose swaps get
    # harder as the posterior sharpens.
    return 0.02 * log_n**2


def test_equalized_schedule_equalizes_a_known_barrier():
    ladder = np.concatenate([[0.0], np.geomspace(1.0, 1e8, 16)])
    positive = np.log(ladder[1:])
    rejection = np.concatenate([[0.3], np.diff(_barrier(positive))])
    spread = rejection[1:].max() / rejection[1:].min()
    new = equalized_schedule(ladder, rejection)
    assert new[0] == 0.0 and new[1] == 1.0 and new[-1] == pytest.approx(1e8)
    assert np.all(np.diff(new) > 0)
    new_rejection = np.diff(_barrier(np.log(new[1:])))
    # one step from a geometric ladder (rejection spread ~30x) to within a few percent
    assert spread > 20
    assert new_rejection.max() / new_rejection.min() < 1.05
    # the total barrier of the positive rungs is a property of the model, not the ladder
    assert new_rejection.sum() == pytest.approx(rejection[1:].sum(), rel=1e-12)


def test_schedule_keeps_short_ladders_and_tolerates_pairs_that_never_reject():
    assert np.array_equal(equalized_schedule(np.array([0.0, 1.0, 10.0]), np.array([.1, .2])),
                          [0.0, 1.0, 10.0])
    ladder = np.geomspace(1.0, 1e4, 5)
    new = equalized_schedule(ladder, np.array([0.0, 0.0, 0.5, 0.5]))
    assert np.all(np.diff(new) > 0) and new[0] == 1.0 and new[-1] == pytest.approx(1e4)
    assert new[2] > ladder[2]  # rungs move towards the pairs that reject


def test_barrier_and_round_trip_bound():
    assert communication_barrier(np.array([0.1, 0.2, np.nan, 0.3])) == pytest.approx(0.6)
    assert round_trip_rate_bound(0.0) == 0.5
    assert round_trip_rate_bound(4.0) == pytest.approx(0.1)
