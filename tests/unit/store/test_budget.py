"""Claims need room in the budget: workers sharing a study never score more than the budget together."""
import time

import pytest

from tfnas.store import EvaluationStore


@pytest.fixture
def two_workers(tmp_path):
    url = f"journal:{tmp_path / 'j.log'}"
    return [EvaluationStore(url, "tfnas", ["maximize"], "m", heartbeat_interval_s=0.1, grace_period_s=0.5) for _ in range(2)]


def evaluate(store, trial, key):
    store.complete(trial, key, {"a": key}, {"m": 1.0}, [], 0.0, [1.0])


def test_the_last_slot_goes_to_the_lower_trial_whoever_claims_first(two_workers):
    """The race that scored budget + 1: both workers see one slot left, both claim it. Worker A asked for its
    trial first (TPE asks before the architecture is known) but B claims first: B must see A's pending trial."""
    a, b = two_workers
    first = a.new_trial()
    assert a.claim_batch([(first, "h0", {"a": 0})], budget=2) == ["held"]
    evaluate(a, first, "h0")
    mine, theirs = a.new_trial(), b.new_trial()  # numbers 1 and 2; both workers think one slot is left
    assert b.claim_batch([(theirs, "h2", {"a": 2})], budget=2) == ["over_budget"]
    assert a.claim_batch([(mine, "h1", {"a": 1})], budget=2) == ["held"]
    evaluate(a, mine, "h1")
    assert [r.hash for r in b.records()] == ["h0", "h1"]
    assert b.study.trials[theirs.number].user_attrs["kind"] == "over_budget"


def test_a_batch_takes_only_the_room_left(two_workers):
    a, b = two_workers
    held = a.claim_batch([(a.new_trial(), f"h{i}", {"a": i}) for i in range(3)], budget=4)
    assert held == ["held"] * 3
    assert b.claim_batch([(b.new_trial(), f"g{i}", {"a": i}) for i in range(2)], budget=4) == ["held", "over_budget"]


def test_a_pending_trial_of_a_dead_worker_stops_counting_after_the_grace_period(two_workers):
    a, b = two_workers
    abandoned = b.new_trial()  # its worker died before claiming it
    time.sleep(0.6)
    assert a.claim_batch([(a.new_trial(), "h1", {"a": 1})], budget=1) == ["held"]
    # had its worker only stalled, its late claim must not count on being ahead: others no longer count it
    assert b.claim_batch([(abandoned, "h2", {"a": 2})], budget=2) == ["over_budget"]


def test_the_same_architecture_claimed_twice_goes_to_the_lower_trial(two_workers):
    a, b = two_workers
    low, high = a.new_trial(), b.new_trial()
    assert b.claim_batch([(high, "h", {"a": 1})], budget=5) == ["held"]
    assert a.claim_batch([(low, "h", {"a": 1})], budget=5) == ["held"]  # the lower trial wins the hash
    assert not b.still_first(high, "h")  # seen before storing a score: b gives way
    assert b.study.trials[high.number].user_attrs["kind"] == "taken"


def test_a_claim_being_stored_keeps_its_hash_and_its_share_of_the_budget(two_workers):
    """`complete` marks the trial an evaluation a few writes before Optuna's tell finishes it; in between it is
    still RUNNING and must count (under load that window let a second worker score budget + 1)."""
    a, b = two_workers
    trial = a.new_trial()
    assert a.claim_batch([(trial, "h1", {"a": 1})], budget=1) == ["held"]
    trial.set_user_attr("kind", "evaluation")  # as complete() does before its tell
    assert b.claim_batch([(b.new_trial(), "h2", {"a": 2})], budget=1) == ["over_budget"]
    assert b.claim_batch([(b.new_trial(), "h1", {"a": 1})], budget=5) == ["taken"]
