"""The pool split: largest remainder, integers summing exactly to the pool (no app needed)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from pointsapp.challenges import split_pool


def test_pool_split_pays_exact_proportions_when_they_are_whole():
    assert split_pool(500, {1: 90, 2: 60, 3: 50}) == {1: 225, 2: 150, 3: 125}


def test_pool_split_gives_the_remainder_to_the_largest_fraction():
    # Exact shares: 167.5, 167.5, 165 → floors 167, 167, 165 and one point left over.
    payouts = split_pool(500, {1: 67, 2: 67, 3: 66})
    assert sum(payouts.values()) == 500
    assert payouts == {1: 168, 2: 167, 3: 165}  # tie on the fraction: lower user id first


def test_pool_split_breaks_equal_fractions_by_larger_contribution_first():
    # Exact 0.5, 1.5, 1.0: users 1 and 2 both have a half left over; 2 contributed more.
    assert split_pool(3, {1: 1, 2: 3, 3: 2}) == {1: 0, 2: 2, 3: 1}
    # Exact 4.29, 4.29, 1.43: the largest remainder (0.43) wins over two of 0.29.
    assert split_pool(10, {5: 3, 2: 3, 9: 1}) == {2: 4, 5: 4, 9: 2}
    # Exact 0.25, 0.25, 0.5: the single point goes to the largest fraction, the rest get 0.
    assert split_pool(1, {7: 1, 3: 1, 4: 2}) == {4: 1, 3: 0, 7: 0}
    # Exact 0.5 each: equal fractions and contributions, so the lower user id wins.
    assert split_pool(1, {7: 1, 3: 1}) == {3: 1, 7: 0}


def test_pool_split_ignores_members_without_a_contribution():
    assert split_pool(100, {1: 0, 2: 5, 3: -2}) == {2: 100}
    assert split_pool(100, {}) == {}
    assert split_pool(100, {1: 0}) == {}


def test_pool_split_refuses_a_negative_pool():
    with pytest.raises(ValueError):
        split_pool(-1, {1: 1})


def test_pool_split_of_1000_random_pools_sums_exactly_and_stays_within_one_point():
    rng = random.Random(20261125)
    for _ in range(1000):
        pool = rng.randint(1, 100_000)
        contributions = {uid: rng.randint(0, 500) for uid in range(1, rng.randint(1, 30) + 1)}
        payouts = split_pool(pool, contributions)
        positive = {uid: v for uid, v in contributions.items() if v > 0}
        if not positive:
            assert payouts == {}
            continue
        assert sum(payouts.values()) == pool
        assert set(payouts) == set(positive)
        total = sum(positive.values())
        for uid, points in payouts.items():
            exact = Fraction(pool * positive[uid], total)
            assert abs(points - exact) < 1
            assert points in (exact.numerator // exact.denominator, -(-exact.numerator // exact.denominator))
        # Larger contributions never get fewer points than smaller ones.
        ranked = sorted(positive, key=lambda uid: positive[uid])
        for low, high in zip(ranked, ranked[1:]):
            if positive[low] < positive[high]:
                assert payouts[low] <= payouts[high]
