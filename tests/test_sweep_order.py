"""The order a sweep hands its evaluations to a pool: longest first, as measured."""

from __future__ import annotations

from verification._sweep.order import LongestFirst


def test_every_setting_starts_once_before_the_slowest_goes_on():
    # items 0-1: setting 0, items 2-3: setting 1, items 4-5: setting 2
    order = LongestFirst([0, 0, 1, 1, 2, 2])
    pending = [0, 1, 2, 3, 4, 5]
    picks = []
    for _ in range(3):  # one of each setting, in the settings' order
        picks.append(order(pending))
        pending.remove(picks[-1])
    assert picks == [0, 2, 4]
    order.record(0, 1.0)
    order.record(2, 3.0)
    order.record(4, 2.0)
    rest = []
    while pending:
        rest.append(order(pending))
        pending.remove(rest[-1])
    assert rest == [3, 5, 1]  # 3 s, then 2 s, then 1 s


def test_a_setting_started_but_not_measured_counts_as_the_slowest():
    order = LongestFirst([0, 0, 1, 1])
    assert order([0, 1, 2, 3]) == 0
    assert order([1, 2, 3]) == 2
    order.record(0, 5.0)  # setting 1 is running, its time unknown: it goes first
    assert order([1, 3]) == 3
    assert order.estimate(1) == float("inf")
    order.record(2, 1.0)
    order.record(3, 2.0)
    assert order.estimate(1) == 1.5 and order([1]) == 1


def test_a_retry_of_an_item_handed_out_before_is_still_chosen():
    order = LongestFirst([0, 1])
    assert order([0, 1]) == 0 and order([1]) == 1
    assert order([0]) == 0  # lost once, pending again: nothing queued holds it


def test_thousands_of_items_in_the_order_of_their_settings_then_longest_first():
    n = 20_000
    order = LongestFirst([i // 4 for i in range(n)])  # 5000 settings of 4 seeds
    pending = dict.fromkeys(range(n))
    picks = []
    for _ in range(5000):  # one of each setting first, in their order
        picks.append(order(pending.keys()))
        del pending[picks[-1]]
    assert picks[:3] == [0, 4, 8] and picks[-1] == n - 4
    order.record(4, 9.0)  # setting 1 is the slowest measured; the rest are not measured
    order.record(0, 1.0)
    for setting in range(2, 5000):
        order.record(4 * setting, 0.5)
    rest = []
    while pending:
        rest.append(order(pending.keys()))
        del pending[rest[-1]]
    assert rest[:3] == [5, 6, 7]  # setting 1's other seeds, then setting 0's
    assert rest[3:6] == [1, 2, 3]
    assert sorted(rest + picks) == list(range(n))
