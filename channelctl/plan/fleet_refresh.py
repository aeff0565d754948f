"""`plan --compare`: what replacing the proxy fleet does to the devices on it.

An Auto Scaling group whose launch template reference changes starts an instance refresh
(the provider starts one when ``launch_template`` changes and ``instance_refresh`` is set:
pulumi-aws Group docs, instance_refresh). The refresh replaces every instance, and every
device session on an instance ends with it: the devices reconnect. So a change that reaches
the group's launch template (user data, AMI, instance type) is disruptive, and the comparison
says how many devices reconnect, in how many steps, and how long each step's devices and the
whole fleet take at the account's IoT Core CONNECT quota — the step arithmetic of
``components.proxy_refresh``, applied to the preferences the new plan renders.

Where each figure comes from is said next to it: the device count from the iot stack's
``expectedDevices``, the devices one instance holds from HAProxy's ``maxconn`` in the user data
(sized from the measured memory per device, ``components.proxy_capacity``), the quota read from
the account's facts or else ``capacity.iotConnectsPerSecond`` or AWS's default (the capacity
check's ``connect_quota``).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from components.proxy_capacity import DEFAULT_IOT_CONNECTS_PER_SECOND
from components.proxy_refresh import (
    DEREGISTRATION_DELAY_S,
    RefreshError,
    RefreshPreferences,
    refresh_steps,
    step_problems,
)

T_ASG = "aws:autoscaling/group:Group"
T_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
T_TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
# What starts a refresh: the provider's fixed triggers (instance_refresh docs).
REFRESH_TRIGGERS = ("launchTemplate", "launchConfiguration", "mixedInstancesPolicy")


@dataclass(frozen=True)
class FleetBasis:
    """The new plan's figures for one stack's fleet: devices and the CONNECT quota, each with its source."""

    devices: int
    devices_how: str
    connects_per_second: int
    quota_how: str
    slowest: tuple[str, float, str] | None = None
    """The reconnect path's slowest stage (name, per second, how) when it is slower than the quota:
    the capacity check's reconnect storm (proxy handshakes, custom authorizer, CONNECT quota)."""


UNKNOWN_BASIS = FleetBasis(
    devices=0, devices_how="expectedDevices not known to this comparison",
    connects_per_second=DEFAULT_IOT_CONNECTS_PER_SECOND,
    quota_how=f"AWS default {DEFAULT_IOT_CONNECTS_PER_SECOND}, the account's quota not known to this comparison",
)


def fleet_basis(stacks: Mapping[str, Any]) -> dict[str, FleetBasis]:
    """Per iot stack of the new plan (``Plan.stacks``): its expected devices and CONNECT quota."""
    from channelctl.plan.checks.capacity import connect_quota, reconnect_storm
    from channelctl.plan.checks.model import DEFAULT_EXPECTED_DEVICES, Channel, Findings, as_int, core
    from components.config import ConfigError, load_capacity

    basis = {}
    for name, stack in stacks.items():
        if stack.role != "iot":
            continue
        configured = "expectedDevices" in stack.config
        devices = as_int(stack.config.get("expectedDevices", DEFAULT_EXPECTED_DEVICES)) or 0
        try:
            settings = load_capacity(stack.config.get("capacity"))
        except ConfigError:
            continue  # the plan's capacity check reports it; the comparison falls back to UNKNOWN_BASIS
        settings, how = connect_quota(stack, settings, Findings())
        slowest = None
        if hasattr(stack, "rendered"):
            channel = Channel(stacks)
            if core(channel).iot is not None and core(channel).iot.name == name:
                stage = reconnect_storm(channel, core(channel), devices, settings, Findings(), connect_how=how).bottleneck
                if stage.per_second < settings.iot_connects_per_second:
                    slowest = (stage.name, stage.per_second, stage.how)
        basis[name] = FleetBasis(
            devices=devices,
            devices_how=f"expectedDevices{'' if configured else ' (the default)'} of stack {name}",
            connects_per_second=settings.iot_connects_per_second,
            quota_how=f"IoT Core connect quota: {how}",
            slowest=slowest,
        )
    return basis


def starts_refresh(group_inputs: Mapping[str, Any], changed: list[str]) -> bool:
    """A group that has an instance refresh and whose launch template reference changed."""
    return bool(group_inputs.get("instanceRefresh")) and any(k in changed for k in REFRESH_TRIGGERS)


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def preferences_of(group_inputs: Mapping[str, Any]) -> RefreshPreferences:
    """The rendered preferences, with the provider's defaults for what is unset (Group docs)."""
    raw = (group_inputs.get("instanceRefresh") or {}).get("preferences") or {}
    points = tuple(_int(p, 0) for p in raw.get("checkpointPercentages") or ())
    return RefreshPreferences(
        min_healthy=_int(raw.get("minHealthyPercentage"), 90),
        max_healthy=_int(raw.get("maxHealthyPercentage"), 100),
        # Unset, the warm-up is the group's health check grace period (provider default 300).
        warmup_s=_int(raw.get("instanceWarmup"), _int(group_inputs.get("healthCheckGracePeriod"), 300)),
        checkpoints=points,
        checkpoint_delay_s=_int(raw.get("checkpointDelay")),
        skip_matching=bool(raw.get("skipMatching")),
    )


def maxconn(template_inputs: Mapping[str, Any] | None) -> int | None:
    """HAProxy's global maxconn in a launch template's user data (base64), if it has one."""
    raw = (template_inputs or {}).get("userData")
    if not isinstance(raw, str):
        return None
    try:
        text = base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        text = raw
    match = re.search(r"^global\b.*?^\s*maxconn\s+(\d+)", text, re.MULTILINE | re.DOTALL)
    return int(match.group(1)) if match else None


def refresh_reasons(group: Any, templates: Mapping[str, Any], target_groups: list[Any],
                    basis: FleetBasis | None) -> list[str]:
    """Why replacing this group's instances is disruptive, with the figures and their sources.

    ``group``, ``templates`` (id -> resource) and ``target_groups`` are the new plan's resources.
    """
    inputs = group.inputs
    basis = basis or UNKNOWN_BASIS
    instances = _int(inputs.get("desiredCapacity")) or _int(inputs.get("minSize")) or 1
    template = templates.get(str((inputs.get("launchTemplate") or {}).get("id")))
    per_instance = maxconn(template.inputs if template is not None else None)
    per_how = "HAProxy maxconn in the user data, sized from the measured memory per device"
    if per_instance is None:
        per_instance, per_how = max(basis.devices, 1), "no HAProxy maxconn in the user data: the whole fleet"
    devices = basis.devices or instances * per_instance
    devices_how = basis.devices_how if basis.devices else f"{instances} x maxconn: {basis.devices_how}"
    quota = basis.connects_per_second
    prefs = preferences_of(inputs)
    reasons = [
        f"instance refresh: every one of the {instances} proxy instances is replaced and its devices reconnect — "
        f"up to {devices:,} devices ({devices_how})"
    ]
    try:
        steps = refresh_steps(instances, per_instance, devices, quota, prefs)
    except RefreshError as exc:
        return [*reasons, f"the refresh preferences cannot be staged: {exc}"]
    launch = "new instance launched first" if prefs.min_healthy == 100 else f"minimum healthy {prefs.min_healthy}%"
    points = f"checkpoints {', '.join(map(str, prefs.checkpoints))}%" if prefs.checkpoints else "no checkpoints"
    sizes = sorted({s.instances for s in steps})
    reasons.append(
        f"{len(steps)} step{'s' if len(steps) > 1 else ''} of {'/'.join(map(str, sizes))} instance"
        f"{'s' if sizes != [1] else ''} ({points}; {launch}; warm-up {prefs.warmup_s} s"
        + (f", checkpoint delay {prefs.checkpoint_delay_s if prefs.checkpoint_delay_s is not None else 3600} s"
           if prefs.checkpoints else "") + ")"
    )
    worst = max(steps, key=lambda s: s.reconnect_s - s.window_s)
    reasons.append(
        f"each step drops at most {max(s.devices for s in steps):,} devices ({per_instance:,} per instance, {per_how}); "
        f"they reconnect in {max(s.reconnect_s for s in steps):,.0f} s at {quota:,} CONNECT/s ({basis.quota_how})"
        + (f", within the {_span(steps)} the refresh waits on each step" if worst.fits else "")
    )
    reasons += [f"OVER THE QUOTA: {p}" for p in step_problems(steps, quota)]
    if basis.slowest is not None:
        # A stage slower than the quota paces the reconnects instead (the capacity check's storm).
        stage, rate, how = basis.slowest
        paced = refresh_steps(instances, per_instance, devices, rate, prefs)
        reasons.append(f"the reconnect path is slower than the quota: {stage} at {rate:,.0f}/s ({how}); each step's "
                       f"devices need {max(s.reconnect_s for s in paced):,.0f} s at that rate")
        reasons += [f"OVER THE {stage.upper()} RATE: {p}" for p in step_problems(paced, rate)]
    drain = _drain(target_groups, inputs)
    total = sum(s.window_s for s in steps) + len(steps) * drain[0]
    reasons.append(
        f"the whole fleet: {devices:,} devices reconnect in {math.ceil(devices / quota):,} s of CONNECT quota; the "
        f"refresh takes at least {math.ceil(total / 60):,} min (its waits and {drain[0]} s deregistration per step)"
    )
    reasons.append(drain[1])
    return reasons


def _span(steps: list[Any]) -> str:
    low, high = min(s.window_s for s in steps), max(s.window_s for s in steps)
    return f"{low:,.0f} s" if low == high else f"{high:,.0f} s (the last: {low:,.0f} s)"


def _drain(target_groups: list[Any], group_inputs: Mapping[str, Any]) -> tuple[int, str]:
    """The deregistration delay of the group's target groups, and what happens to the sessions."""
    arns = set(map(str, group_inputs.get("targetGroupArns") or []))
    mine = [tg for tg in target_groups if str(tg.outputs.get("arn", tg.id)) in arns]
    if not mine:
        return 0, "no target group: the devices' connections end when each instance is terminated"
    delay = max(_int(tg.inputs.get("deregistrationDelay"), DEREGISTRATION_DELAY_S) for tg in mine)
    if all(tg.inputs.get("connectionTermination") is True for tg in mine):
        return delay, (f"sessions end cleanly: the NLB sends a replaced instance no new devices, and after its {delay} s "
                       "deregistration delay closes the remaining connections while HAProxy still runs")
    return delay, (f"after the {delay} s deregistration delay the instance is terminated with its connections open: "
                   "devices and IoT Core notice only when 1.5 keep-alive periods pass (set connection_termination)")
