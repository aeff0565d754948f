"""How the proxy fleet's instance refresh is staged, and what each step costs the devices.

Replacing a proxy instance drops every device session on it: the devices reconnect through
the NLB to the other instances, and IoT Core accepts at most the account's CONNECT quota
per second (``components.proxy_capacity.DEFAULT_IOT_CONNECTS_PER_SECOND``, adjustable).
A refresh that terminated the whole fleet at once would leave every device queueing on that
quota together. So the refresh is staged: one instance at a time, launched before the old
one is terminated, with a pause after each step long enough for that step's devices to
reconnect at the quota before the next step drops more.

``refresh_steps`` models what Auto Scaling does with a set of preferences (each rule cites
its AWS source); ``step_problems`` says which steps would drop devices faster than the quota
lets them back; ``staged_preferences`` builds the preferences the program sets. The plan's
``--compare`` evaluates the rendered preferences with the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --------------------------------------------------------------------------- #
# Cited: Auto Scaling API reference, RefreshPreferences (the API model botocore ships:
# botocore/data/autoscaling/2011-01-01/service-2.json, shapes RefreshPreferences,
# CheckpointPercentages, NonZeroIntPercent, CheckpointDelay, IntPercent100To200).
# --------------------------------------------------------------------------- #

# Checkpoint percentages are integers 1-100, unique, ascending, the last 100 to replace
# every instance: at most 100 checkpoints.
MAX_CHECKPOINTS = 100
# CheckpointDelay: 0-172,800 seconds; 3,600 when checkpoints are given without a delay.
CHECKPOINT_DELAY_MAX_S = 172_800
CHECKPOINT_DELAY_DEFAULT_S = 3_600
# MinHealthyPercentage 0-100 (default 90), MaxHealthyPercentage 100-200, at most 100 apart.
# "When MaxHealthyPercentage is explicitly set and it is mathematically impossible to replace
# instances while honoring both bounds, Auto Scaling launches a new instance before terminating
# an old one": 100/100 replaces one instance at a time, the new one first. The provider always
# sends MaxHealthyPercentage (terraform-provider-aws internal/service/autoscaling/group.go,
# instance_refresh.preferences.max_healthy_percentage Default 100, expandRefreshPreferences).
REFRESH_MIN_HEALTHY_PERCENT = 100
REFRESH_MAX_HEALTHY_PERCENT = 100

# Cited: Elastic Load Balancing API reference, TargetGroupAttribute (botocore elbv2 model):
# deregistration_delay.timeout_seconds 0-3600, default 300: a deregistering target receives no
# new connections and keeps its existing ones that long; Auto Scaling terminates a load-balanced
# instance only after its deregistration completes (ELB user guide, "Deregistration delay").
# deregistration_delay.connection_termination.enabled (Network Load Balancers only, default false
# for TCP/TLS): the load balancer closes the remaining connections at the end of the delay.
# The delay is AWS's default, kept: MQTT sessions are long-lived and do not finish by themselves,
# so a longer wait only lengthens the refresh; connection termination makes the NLB close each
# device connection while HAProxy still runs, so HAProxy closes its side to IoT Core and the
# session ends there at once, instead of when the instance is gone and IoT Core waits out 1.5
# keep-alive periods (MQTT 3.1.1, 3.1.2.10).
DEREGISTRATION_DELAY_S = 300
CONNECTION_TERMINATION = True


@dataclass(frozen=True, kw_only=True)
class RefreshPreferences:
    """The instance refresh preferences this model reads (the provider's names in comments)."""

    min_healthy: int  # min_healthy_percentage
    max_healthy: int  # max_healthy_percentage
    warmup_s: int  # instance_warmup
    checkpoints: tuple[int, ...] = ()  # checkpoint_percentages
    checkpoint_delay_s: int | None = None  # checkpoint_delay
    skip_matching: bool = False  # skip_matching


@dataclass(frozen=True, kw_only=True)
class Step:
    """Instances terminated together, the devices they drop, and the time until the next ones go."""

    number: int  # 1-based, in the order the refresh goes
    checkpoint: int | None  # the checkpoint percentage this step completes, if any
    instances: int
    devices: int
    reconnect_s: float  # devices / CONNECT quota
    window_s: float  # the waits the refresh makes before it drops the next devices (or ends)

    @property
    def fits(self) -> bool:
        return self.reconnect_s <= self.window_s


class RefreshError(ValueError):
    """Preferences Auto Scaling would refuse, or a fleet this model cannot stage; the message says why."""


def batch_size(instances: int, prefs: RefreshPreferences) -> int:
    """Instances Auto Scaling replaces at once: what the two bounds leave between them.

    The minimum is rounded up to whole instances (older RefreshPreferences text: "rounded up to
    the nearest integer"), the maximum down (this model's assumption: the API does not say);
    when the bounds leave no room, one instance, the new one first (API reference, above).
    """
    keep = math.ceil(instances * prefs.min_healthy / 100)
    top = math.floor(instances * prefs.max_healthy / 100)
    return max(1, top - keep)


def checkpoint_counts(instances: int, checkpoints: tuple[int, ...]) -> list[int]:
    """Replaced instances at each checkpoint: a checkpoint is reached when the share replaced is
    equal to or higher than its percentage, never lower (Auto Scaling user guide, "Add checkpoints
    to an instance refresh"), so at the first count whose share reaches it."""
    return [math.ceil(p * instances / 100) for p in checkpoints]


def validate_preferences(prefs: RefreshPreferences) -> None:
    """What the RefreshPreferences API model refuses (module constants)."""
    if not 0 <= prefs.min_healthy <= 100:
        raise RefreshError(f"minimum healthy percentage {prefs.min_healthy} is outside 0-100")
    if not 100 <= prefs.max_healthy <= 200 or prefs.max_healthy - prefs.min_healthy > 100:
        raise RefreshError(f"maximum healthy percentage {prefs.max_healthy} is outside 100-200 or more than 100 above "
                           f"the minimum {prefs.min_healthy}")
    points = prefs.checkpoints
    if points and (list(points) != sorted(set(points)) or not 1 <= points[0] or points[-1] != 100
                   or len(points) > MAX_CHECKPOINTS):
        raise RefreshError(f"checkpoint percentages {list(points)} are not unique ascending integers 1-100 ending at 100")
    if prefs.checkpoint_delay_s is not None and not 0 <= prefs.checkpoint_delay_s <= CHECKPOINT_DELAY_MAX_S:
        raise RefreshError(f"checkpoint delay {prefs.checkpoint_delay_s} s is outside 0-{CHECKPOINT_DELAY_MAX_S:,} s")
    if prefs.warmup_s < 0:
        raise RefreshError(f"instance warm-up {prefs.warmup_s} s is negative")


def refresh_steps(instances: int, per_instance: int, devices: int, connects_per_second: float,
                  prefs: RefreshPreferences) -> list[Step]:
    """The refresh of ``instances`` proxies holding ``devices`` (at most ``per_instance`` each), step by step.

    Batches of ``batch_size`` are terminated together; the refresh waits at least the instance
    warm-up after a new instance is in service before it moves on to the next replacement
    (RefreshPreferences.InstanceWarmup), and the checkpoint delay after each checkpoint. A batch
    drops at most ``per_instance`` devices per instance (HAProxy's maxconn), never more than the
    fleet holds. A step's window counts only these waits: booting, the deregistration delay and
    the termination come on top, so it is a lower bound. The last step has a window too (its
    warm-up): a refresh that drops the whole fleet in one step has not staged anything.
    """
    validate_preferences(prefs)
    if instances < 1 or per_instance < 1 or connects_per_second <= 0:
        raise RefreshError(f"a fleet of {instances} instances of {per_instance} devices at {connects_per_second} "
                           "CONNECT/s cannot be staged")
    targets = checkpoint_counts(instances, prefs.checkpoints) if prefs.checkpoints else [instances]
    delay = (CHECKPOINT_DELAY_DEFAULT_S if prefs.checkpoint_delay_s is None else prefs.checkpoint_delay_s)
    batch = batch_size(instances, prefs)
    raw: list[tuple[int, int | None]] = []  # (instances, the checkpoint it completes)
    done = 0
    for target, point in zip(targets, prefs.checkpoints or (None,)):
        while done < target:
            count = min(batch, target - done)
            done += count
            raw.append((count, point if done == target else None))
    steps = []
    for i, (count, point) in enumerate(raw):
        dropped = min(count * per_instance, devices)
        pause = delay if point is not None and point != 100 else 0
        steps.append(Step(number=i + 1, checkpoint=point, instances=count, devices=dropped,
                          reconnect_s=dropped / connects_per_second, window_s=prefs.warmup_s + pause))
    return steps


def step_problems(steps: list[Step], connects_per_second: float) -> list[str]:
    """The steps whose devices would still be reconnecting when the refresh moves on."""
    return [
        f"step {s.number} drops {s.devices:,} devices ({s.instances} instance{'s' if s.instances > 1 else ''}): "
        f"{s.reconnect_s:,.0f} s of CONNECTs at {connects_per_second:,.0f}/s, more than the {s.window_s:,.0f} s "
        "the refresh waits on that step"
        for s in steps if not s.fits
    ]


def staged_preferences(instances: int, per_instance: int, connects_per_second: float, warmup_s: int
                       ) -> RefreshPreferences:
    """Preferences whose every step's devices reconnect at the quota before the refresh moves on.

    One instance at a time, launched first (minimum and maximum healthy 100%); a checkpoint after
    each instance (``floor(100 i / N)`` is reached exactly when i instances are replaced, for N up
    to 100) or, above 100 instances, after each percent. ``one``, the time one instance's devices
    need at the quota, is the checkpoint delay and the least warm-up: the warm-up alone then
    separates the replacements within a checkpoint and ends the last step. Skip matching: a refresh
    that is cancelled (a later update cancels the running one: provider docs, instance_refresh) and
    started again replaces only the instances that do not match the group's saved launch template
    version, so it does not disconnect the instances already new (Auto Scaling user guide, "Use an
    instance refresh with skip matching": without a desired configuration, instances are compared
    with the configuration last saved on the group, which the provider updates before it starts
    the refresh).
    """
    if instances < 1 or per_instance < 1 or connects_per_second <= 0:
        raise RefreshError(f"a fleet of {instances} instances of {per_instance} devices at {connects_per_second} "
                           "CONNECT/s cannot be staged")
    if instances <= MAX_CHECKPOINTS:
        points = tuple(100 * i // instances for i in range(1, instances + 1))
    else:
        points = tuple(range(1, MAX_CHECKPOINTS + 1))
    one = math.ceil(per_instance / connects_per_second)
    if one > CHECKPOINT_DELAY_MAX_S:  # pragma: no cover - per_instance / 1 CONNECT/s stays below it
        raise RefreshError(f"one instance's {per_instance:,} devices need {one:,} s at {connects_per_second} CONNECT/s, "
                           f"more than the {CHECKPOINT_DELAY_MAX_S:,} s a checkpoint delay allows")
    return RefreshPreferences(
        min_healthy=REFRESH_MIN_HEALTHY_PERCENT,
        max_healthy=REFRESH_MAX_HEALTHY_PERCENT,
        warmup_s=max(warmup_s, one),
        checkpoints=points,
        checkpoint_delay_s=one,
        skip_matching=True,
    )
