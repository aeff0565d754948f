"""`plan --compare` on a proxy fleet refresh, from hand-made plans (no render): disruptive or not,
and the figures of each step, under and over the CONNECT quota."""

import base64

from channelctl.plan import compare as cmp
from channelctl.plan.fleet_refresh import FleetBasis, maxconn, preferences_of, refresh_reasons, starts_refresh

GROUP, TEMPLATE, TG = "aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate", "aws:lb/targetGroup:TargetGroup"
STAGED = {"minHealthyPercentage": 100, "maxHealthyPercentage": 100, "instanceWarmup": "180",
          "checkpointPercentages": [25, 50, 75, 100], "checkpointDelay": "100", "skipMatching": True}
BASIS = FleetBasis(devices=150_000, devices_how="expectedDevices of stack iot", connects_per_second=500,
                   quota_how="IoT Core connect quota: AWS default, not read from the account")


def _user_data(maxconn_value: int, marker: str = "") -> str:
    text = f"#!/bin/bash\ncat > /etc/haproxy/haproxy.cfg <<'EOF'\nglobal\n    maxconn {maxconn_value}\n{marker}\nEOF\n"
    return base64.b64encode(text.encode()).decode()


def _res(type_, name, inputs, id_, outputs=None):
    return cmp.Resource(stack="iot", type=type_, name=name, urn=f"urn:iot:{type_}:{name}", id=id_, inputs=inputs,
                        options={}, outputs=outputs or {}, tokens=(id_,))


def _fleet(*, version: str, marker: str = "", refresh: dict | None = None, termination: bool = True):
    template = _res(TEMPLATE, "proxy", {"userData": _user_data(50_000, marker), "imageId": "ami-0123456789abcdef0"},
                    "lt-0123456789")
    tg = _res(TG, "family1", {"deregistrationDelay": 300, "connectionTermination": termination, "port": 8080},
              "tg-family1-id", outputs={"arn": "arn:aws:elasticloadbalancing:tg/family1"})
    group_inputs = {"desiredCapacity": 4, "minSize": 4, "targetGroupArns": ["arn:aws:elasticloadbalancing:tg/family1"],
                    "launchTemplate": {"id": "lt-0123456789", "version": version}}
    if refresh is not None:
        group_inputs["instanceRefresh"] = {"strategy": "Rolling", "preferences": refresh}
    group = _res(GROUP, "proxy", group_inputs, "asg-0123456789")
    return {"iot": [template, tg, group]}


def test_a_new_template_version_refreshing_the_fleet_is_disruptive_with_its_figures():
    old = _fleet(version="1", refresh=STAGED)
    new = _fleet(version="2", marker="# new endpoint IPs", refresh=STAGED)
    result = cmp.compare(old, new, basis={"iot": BASIS})
    assert result.verdict == cmp.DISRUPTIVE
    changes = {c.resource.type: c for c in result.changes}
    assert changes[TEMPLATE].verdict == cmp.DISRUPTIVE and changes[TEMPLATE].properties == ["userData"]
    reasons = changes[GROUP].reasons
    assert reasons[0].endswith("up to 150,000 devices (expectedDevices of stack iot)")
    assert reasons[1] == ("4 steps of 1 instance (checkpoints 25, 50, 75, 100%; new instance launched first; "
                          "warm-up 180 s, checkpoint delay 100 s)")
    assert reasons[2] == ("each step drops at most 50,000 devices (50,000 per instance, HAProxy maxconn in the user "
                          "data, sized from the measured memory per device); they reconnect in 100 s at 500 CONNECT/s "
                          "(IoT Core connect quota: AWS default, not read from the account), within the 280 s (the "
                          "last: 180 s) the refresh waits on each step")
    assert reasons[3].startswith("the whole fleet: 150,000 devices reconnect in 300 s of CONNECT quota; the refresh "
                                 "takes at least 37 min")
    assert reasons[4].startswith("sessions end cleanly")
    assert not [r for r in reasons if r.startswith("OVER THE QUOTA")]


def test_the_same_refresh_over_a_lower_quota_says_which_steps_are_over():
    old, new = _fleet(version="1", refresh=STAGED), _fleet(version="2", marker="#", refresh=STAGED)
    low = FleetBasis(devices=150_000, devices_how="expectedDevices", connects_per_second=200,
                     quota_how="IoT Core connect quota: read from facts/iot.json")
    reasons = next(c for c in cmp.compare(old, new, basis={"iot": low}).changes if c.resource.type == GROUP).reasons
    over = [r for r in reasons if r.startswith("OVER THE QUOTA")]
    # 250 s of CONNECTs fit the 280 s after steps 1-3, not the 180 s of the last step.
    assert over == ["OVER THE QUOTA: step 4 drops 50,000 devices (1 instance): 250 s of CONNECTs at 200/s, more than "
                    "the 180 s the refresh waits on that step"]


def test_the_former_all_at_once_refresh_is_over_the_quota():
    former = {"minHealthyPercentage": 100, "maxHealthyPercentage": 200, "instanceWarmup": "180"}
    old, new = _fleet(version="1", refresh=former), _fleet(version="2", marker="#", refresh=former)
    reasons = next(c for c in cmp.compare(old, new, basis={"iot": BASIS}).changes if c.resource.type == GROUP).reasons
    assert reasons[1].startswith("1 step of 4 instances (no checkpoints;")
    assert [r for r in reasons if r.startswith("OVER THE QUOTA")] == [
        "OVER THE QUOTA: step 1 drops 150,000 devices (4 instances): 300 s of CONNECTs at 500/s, more than the 180 s "
        "the refresh waits on that step"]


def test_a_group_without_instance_refresh_keeps_its_sessions():
    """No refresh: a new version reaches only instances launched later, no device reconnects."""
    old, new = _fleet(version="1"), _fleet(version="2", marker="#")
    result = cmp.compare(old, new, basis={"iot": BASIS})
    assert result.verdict == cmp.SAFE
    assert {c.resource.type for c in result.changes} == {TEMPLATE, GROUP}


def test_changing_only_the_refresh_preferences_starts_no_refresh():
    old = _fleet(version="1", refresh=STAGED)
    new = _fleet(version="1", refresh=STAGED | {"checkpointDelay": "200"})
    (change,) = cmp.compare(old, new, basis={"iot": BASIS}).changes
    assert change.properties == ["instanceRefresh"] and change.verdict == cmp.SAFE
    assert starts_refresh(new["iot"][2].inputs, ["launchTemplate"])
    assert not starts_refresh(new["iot"][2].inputs, ["instanceRefresh"])


def test_connections_left_open_at_termination_are_named():
    old = _fleet(version="1", refresh=STAGED, termination=False)
    new = _fleet(version="2", marker="#", refresh=STAGED, termination=False)
    reasons = next(c for c in cmp.compare(old, new, basis={"iot": BASIS}).changes if c.resource.type == GROUP).reasons
    assert reasons[-1].startswith("after the 300 s deregistration delay the instance is terminated with its "
                                  "connections open")


def test_without_the_plan_the_fleet_bounds_the_figures():
    old, new = _fleet(version="1", refresh=STAGED), _fleet(version="2", marker="#", refresh=STAGED)
    group = new["iot"][2]
    reasons = refresh_reasons(group, {"lt-0123456789": new["iot"][0]}, [new["iot"][1]], None)
    assert "up to 200,000 devices (4 x maxconn: expectedDevices not known to this comparison)" in reasons[0]
    assert "the account's quota not known to this comparison" in reasons[2]


def test_rendered_preferences_and_maxconn_are_read_back():
    prefs = preferences_of({"instanceRefresh": {"preferences": STAGED}})
    assert (prefs.min_healthy, prefs.max_healthy, prefs.warmup_s, prefs.checkpoints, prefs.checkpoint_delay_s) == (
        100, 100, 180, (25, 50, 75, 100), 100)
    # Unset: the provider's defaults (90% minimum, the group's grace period as warm-up).
    defaults = preferences_of({"instanceRefresh": {"strategy": "Rolling"}, "healthCheckGracePeriod": 240})
    assert (defaults.min_healthy, defaults.max_healthy, defaults.warmup_s, defaults.checkpoints) == (90, 100, 240, ())
    assert maxconn({"userData": _user_data(23_369)}) == 23_369
    assert maxconn({"userData": base64.b64encode(b"#!/bin/bash\necho no proxy\n").decode()}) is None


def _iot_stack(config, facts=None):
    from types import SimpleNamespace

    return SimpleNamespace(name="iot", role="iot", account_id="222222222222", region="us-west-2", config=config,
                           facts=facts)


def test_the_basis_names_where_the_quota_came_from():
    from datetime import datetime, timezone
    from pathlib import Path

    from channelctl.accounts.facts import FACT_QUOTAS, Fact, Facts
    from channelctl.plan.fleet_refresh import fleet_basis

    facts = Facts(stack="iot", account="222222222222", region="us-west-2", read_at=datetime.now(timezone.utc),
                  facts={FACT_QUOTAS: Fact(value={"iotcore/L-AEA1E176": {"value": 3000}})}, path=Path("facts/iot.json"))
    read = fleet_basis({"iot": _iot_stack({"expectedDevices": 300_000}, facts)})["iot"]
    assert (read.devices, read.connects_per_second) == (300_000, 3000)
    assert read.quota_how.startswith("IoT Core connect quota: the account's quota, read from facts/iot.json")
    configured = fleet_basis({"iot": _iot_stack({"capacity": {"iotConnectsPerSecond": 200}})})["iot"]
    assert configured.connects_per_second == 200 and "capacity.iotConnectsPerSecond" in configured.quota_how
    assert configured.devices_how == "expectedDevices (the default) of stack iot"
    default = fleet_basis({"iot": _iot_stack({"expectedDevices": 150_000})})["iot"]
    assert default.connects_per_second == 500 and "AWS default, not read from the account" in default.quota_how


def test_a_reconnect_path_slower_than_the_quota_paces_the_steps():
    """The custom authorizer at 200/s (the capacity check's storm) is slower than the 500/s quota:
    the steps are measured at its rate too, and the last one no longer fits its warm-up."""
    old, new = _fleet(version="1", refresh=STAGED), _fleet(version="2", marker="#", refresh=STAGED)
    slow = FleetBasis(devices=150_000, devices_how="expectedDevices", connects_per_second=500,
                      quota_how="IoT Core connect quota: AWS default", slowest=("custom authorizer", 200.0, "measured"))
    reasons = next(c for c in cmp.compare(old, new, basis={"iot": slow}).changes if c.resource.type == GROUP).reasons
    assert not [r for r in reasons if r.startswith("OVER THE QUOTA")]
    assert ("the reconnect path is slower than the quota: custom authorizer at 200/s (measured); each step's devices "
            "need 250 s at that rate") in reasons
    assert [r for r in reasons if r.startswith("OVER THE CUSTOM AUTHORIZER RATE")] == [
        "OVER THE CUSTOM AUTHORIZER RATE: step 4 drops 50,000 devices (1 instance): 250 s of CONNECTs at 200/s, more "
        "than the 180 s the refresh waits on that step"]
    # At the quota alone (no slower stage) the same refresh has no such line.
    fast = cmp.compare(old, new, basis={"iot": BASIS}).changes
    assert not [r for c in fast for r in c.reasons if "slower than the quota" in r]
