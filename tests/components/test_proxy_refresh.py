"""The proxy fleet's staged instance refresh: the step arithmetic, under and over the CONNECT quota."""

import pytest

from components.proxy_refresh import (
    CHECKPOINT_DELAY_DEFAULT_S,
    RefreshError,
    RefreshPreferences,
    batch_size,
    checkpoint_counts,
    refresh_steps,
    staged_preferences,
    step_problems,
)

MAXCONN = 55_090  # a t4g.medium's HAProxy maxconn (components/proxy_capacity.py)
WARMUP = 180


def prefs(**changes) -> RefreshPreferences:
    values = dict(min_healthy=100, max_healthy=100, warmup_s=WARMUP)
    return RefreshPreferences(**(values | changes))


def test_staged_refresh_of_300000_devices_stays_under_500_connects_per_second():
    staged = staged_preferences(7, MAXCONN, 500, WARMUP)
    assert staged.checkpoints == (14, 28, 42, 57, 71, 85, 100)
    assert staged.checkpoint_delay_s == 111  # 55,090 devices / 500 per second, rounded up
    steps = refresh_steps(7, MAXCONN, 300_000, 500, staged)
    assert [s.instances for s in steps] == [1] * 7
    assert [s.devices for s in steps] == [MAXCONN] * 7
    assert [s.window_s for s in steps] == [WARMUP + 111] * 6 + [WARMUP]
    assert step_problems(steps, 500) == []


def test_the_same_stages_fail_at_a_lower_quota():
    staged = staged_preferences(7, MAXCONN, 500, WARMUP)
    problems = step_problems(refresh_steps(7, MAXCONN, 300_000, 100, staged), 100)
    assert len(problems) == 7
    assert problems[0] == ("step 1 drops 55,090 devices (1 instance): 551 s of CONNECTs at 100/s, more than the 291 s "
                           "the refresh waits on that step")


def test_the_former_refresh_dropped_the_whole_fleet_in_one_step():
    """Minimum 100%, maximum 200%, no checkpoints: every replacement is launched at once and
    every old instance terminated together."""
    former = prefs(max_healthy=200)
    (step,) = refresh_steps(7, MAXCONN, 300_000, 500, former)
    assert (step.instances, step.devices, step.reconnect_s) == (7, 300_000, 600.0)
    assert step_problems([step], 500) == [
        "step 1 drops 300,000 devices (7 instances): 600 s of CONNECTs at 500/s, more than the 180 s the refresh "
        "waits on that step"]


@pytest.mark.parametrize("quota", [1, 37, 3000])
def test_staging_holds_for_fleet_sizes_and_quotas(quota):
    for instances in [*range(2, 30), 57, 99, 100, 101, 150, 199, 200, 201, 257]:
        staged = staged_preferences(instances, MAXCONN, quota, WARMUP)
        steps = refresh_steps(instances, MAXCONN, 10**7, quota, staged)
        assert step_problems(steps, quota) == [], instances
        assert sum(s.instances for s in steps) == instances
        if instances <= 100:  # a checkpoint per instance
            assert [s.instances for s in steps] == [1] * instances


def test_checkpoints_are_reached_at_the_first_count_that_reaches_them():
    # User guide example: 10 instances, checkpoints [20, 50, 100].
    assert checkpoint_counts(10, (20, 50, 100)) == [2, 5, 10]
    assert checkpoint_counts(7, (14, 28, 100)) == [1, 2, 7]
    assert checkpoint_counts(7, (15, 100)) == [2, 7]  # 1 of 7 is 14.3%: below 15


@pytest.mark.parametrize("minimum,maximum,instances,batch", [
    (80, 100, 10, 2),  # user guide example: two at a time
    (100, 100, 10, 1),  # no room: one, launched first (API reference)
    (90, 100, 10, 1),
    (100, 200, 7, 7),
    (100, 110, 10, 1),
    (0, 100, 4, 4),
])
def test_batch_size_from_the_healthy_percentages(minimum, maximum, instances, batch):
    assert batch_size(instances, prefs(min_healthy=minimum, max_healthy=maximum)) == batch


def test_checkpoints_without_a_delay_wait_an_hour():
    steps = refresh_steps(4, MAXCONN, 150_000, 500, prefs(checkpoints=(50, 100)))
    assert [s.instances for s in steps] == [1, 1, 1, 1]
    assert [s.window_s for s in steps] == [WARMUP, WARMUP + CHECKPOINT_DELAY_DEFAULT_S, WARMUP, WARMUP]
    # Within a checkpoint the warm-up alone separates the replacements: 110 s of CONNECTs fit 180 s.
    assert step_problems(steps, 500) == []


def test_a_step_drops_no_more_devices_than_the_fleet_holds():
    steps = refresh_steps(4, MAXCONN, 20_000, 500, staged_preferences(4, MAXCONN, 500, WARMUP))
    assert [s.devices for s in steps] == [20_000] * 4


@pytest.mark.parametrize("bad,message", [
    (prefs(checkpoints=(50, 90)), r"ending at 100"),
    (prefs(checkpoints=(50, 50, 100)), r"unique ascending"),
    (prefs(checkpoints=(0, 100)), r"1-100"),
    (prefs(checkpoints=(50, 100), checkpoint_delay_s=172_801), r"checkpoint delay 172801 s is outside 0-172,800 s"),
    (prefs(max_healthy=201), r"maximum healthy percentage 201"),
    (prefs(min_healthy=50, max_healthy=151), r"more than 100 above the minimum 50"),
    (prefs(min_healthy=101), r"minimum healthy percentage 101"),
])
def test_preferences_auto_scaling_refuses_are_refused(bad, message):
    with pytest.raises(RefreshError, match=message):
        refresh_steps(4, MAXCONN, 150_000, 500, bad)
