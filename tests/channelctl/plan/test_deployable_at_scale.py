"""The largest fleet the config accepts renders within what AWS accepts, in every device-access mode.

The largest ``expectedDevices`` is found by asking the config validator itself
(a search over ``load_config``), never copied from a constant: when a limit
or the proxy sizing changes, the test follows it. One more device must be
refused by the config with an error that names the key and the fix.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest

from channelctl.plan.checks import DEPLOYABLE, PlannedStack
from channelctl.plan.checks.deployable import check_deployable
from channelctl.plan.checks.model import Channel
from components.config import ConfigError, load_config
from tests.support import FQ, example_config, render

MODES = ("tls-proxy", "tcp-passthrough", "direct", "none")
SEARCH_CAP = 10**10


def iot_config(mode: str, devices: int, fleet: tuple[int, int] | None = None) -> dict[str, Any]:
    """The example iot stack in ``mode`` (its other keys unchanged); ``fleet`` = proxy (min, max) sizes."""
    cfg = example_config("iot")
    example_access = cfg.pop("deviceAccess")
    cfg["expectedDevices"] = devices
    if mode == "tls-proxy":
        access = copy.deepcopy(example_access)
        if fleet is not None:
            access["proxyMinSize"], access["proxyMaxSize"] = fleet
        cfg["deviceAccess"] = access
    elif mode == "tcp-passthrough":
        cfg["deviceAccess"] = {"mode": mode, "families": example_access["families"]}
    elif mode == "direct":
        cfg["deviceAccess"] = {"mode": mode}
    return cfg


def accepted(cfg: dict[str, Any]) -> bool:
    try:
        load_config(cfg, stack="iot")
    except ConfigError:
        return False
    return True


def largest(accepts: Callable[[int], bool], low: int = 1) -> int:
    """The largest n >= low with accepts(n), for a predicate that holds up to some n and never after."""
    assert accepts(low)
    high = low * 2
    while accepts(high):
        low, high = high, high * 2
        assert high < SEARCH_CAP, "the config accepts any number of devices"
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if accepts(mid) else (low, mid)
    return low


def _example_fleet() -> tuple[int, int]:
    access = example_config("iot")["deviceAccess"]
    return int(access["proxyMinSize"]), int(access["proxyMaxSize"])


def smallest_fleet(devices: int) -> tuple[int, int] | None:
    """The smallest proxy fleet the config accepts for ``devices`` (the example's headroom above it), or None.

    A fleet is big enough when the config no longer refuses its proxyMinSize
    (errors name their key); the smallest big-enough fleet is then either
    accepted, or refused for something a bigger fleet cannot fix either.
    """
    low, high = _example_fleet()
    headroom = high - low

    def config(size: int) -> dict[str, Any]:
        return iot_config("tls-proxy", devices, (size, size + headroom))

    def big_enough(size: int) -> bool:
        try:
            load_config(config(size), stack="iot")
        except ConfigError as exc:
            return not str(exc).startswith("deviceAccess.proxyMinSize")
        return True

    size_low, size_high = 1, 2
    while not big_enough(size_high):
        size_low, size_high = size_high, size_high * 2
        assert size_high < SEARCH_CAP
    while size_high - size_low > 1:
        mid = (size_low + size_high) // 2
        size_low, size_high = (size_low, mid) if big_enough(mid) else (mid, size_high)
    return (size_high, size_high + headroom) if accepted(config(size_high)) else None


# (id, mode, how the fleet is sized): tls-proxy twice, with the example's fleet
# and with the smallest fleet the config accepts for each number of devices.
CASES = [
    ("tls-proxy-example-fleet", "tls-proxy", "example"),
    ("tls-proxy-sized-fleet", "tls-proxy", "sized"),
    ("tcp-passthrough", "tcp-passthrough", None),
    ("direct", "direct", None),
    ("none", "none", None),
]


def config_at(mode: str, sizing: str | None, devices: int) -> dict[str, Any] | None:
    if sizing == "sized":
        fleet = smallest_fleet(devices)
        return None if fleet is None else iot_config(mode, devices, fleet)
    return iot_config(mode, devices)


def largest_config(mode: str, sizing: str | None) -> tuple[int, dict[str, Any]]:
    def accepts(devices: int) -> bool:
        cfg = config_at(mode, sizing, devices)
        return cfg is not None and accepted(cfg)

    devices = largest(accepts)
    cfg = config_at(mode, sizing, devices)
    assert cfg is not None
    return devices, cfg


@pytest.fixture(scope="module")
def network_exports():
    return render("network", example_config("network")).exports


@pytest.mark.parametrize("mode, sizing", [(m, s) for _, m, s in CASES], ids=[c[0] for c in CASES])
def test_largest_accepted_fleet_renders_deployable_and_one_more_is_refused(network_exports, mode, sizing):
    devices, cfg = largest_config(mode, sizing)
    rendered = render("iot", cfg, {FQ("network"): network_exports})
    stack = PlannedStack(name="iot", role="iot", account_id=str(cfg["accountId"]), region=str(cfg["region"]),
                         config=cfg, rendered=rendered)
    result = check_deployable(Channel({"iot": stack}))
    assert result.name == DEPLOYABLE
    assert result.passed, (devices, result.problems)
    assert result.verified

    # One more device: the config refuses it, naming the key, the value and a fix.
    more = copy.deepcopy(cfg)
    more["expectedDevices"] = devices + 1
    with pytest.raises(ConfigError) as refused:
        load_config(more, stack="iot")
    message = str(refused.value)
    if sizing == "example":
        # The example's fleet is what runs out first: raise proxyMinSize.
        assert "deviceAccess.proxyMinSize" in message and f"expectedDevices {devices + 1:,}" in message, message
    else:
        # The VPC's interface endpoints run out: the error says how many devices fit.
        assert message.startswith(f"expectedDevices {devices + 1} needs "), message
        assert f"lower expectedDevices to at most {devices:,}" in message, message
        if sizing == "sized":
            # A bigger fleet would not help either.
            assert smallest_fleet(devices + 1) is None


def test_systems_manager_endpoints_leave_the_proxy_fleet_fewer_data_endpoints():
    """tls-proxy's three Systems Manager endpoints share the gatekeeper VPC's quota with iot.data."""
    proxy, _ = largest_config("tls-proxy", "sized")
    passthrough, _ = largest_config("tcp-passthrough", None)
    proxy_endpoints = load_config(config_at("tls-proxy", "sized", proxy), stack="iot").data_endpoint_count
    passthrough_endpoints = load_config(iot_config("tcp-passthrough", passthrough), stack="iot").data_endpoint_count
    assert passthrough_endpoints - proxy_endpoints == 3
