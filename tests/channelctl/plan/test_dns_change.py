"""A domain change in `channelctl plan --compare`: the DNS gap of the VPCs associated from other accounts.

The rendered case compares the example stacks (customDomain iot.plant.example.com) with the
same stacks moved to mqtt.plant.example.com; the pure cases build the two plans by hand.
"""

from __future__ import annotations

import pytest
import yaml

from channelctl.plan import compare as cmp
from channelctl.plan import dns_change
from channelctl.plan.build import build_plan
from tests.channelctl.plan.test_plan_support import ROOT, copy_project

PREFIX = "private-mqtt-channel:"
OLD_DOMAIN, NEW_DOMAIN = "iot.plant.example.com", "mqtt.plant.example.com"


def _resources(directory):
    return cmp.plan_resources(build_plan(directory).stacks)


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """(example plan, plan after customDomain moves to NEW_DOMAIN, their comparison)."""
    directory = tmp_path_factory.mktemp("domain")
    copy_project(directory)
    path = directory / "Pulumi.iot.yaml"
    document = yaml.safe_load(path.read_text())
    assert document["config"][PREFIX + "customDomain"] == OLD_DOMAIN
    document["config"][PREFIX + "customDomain"] = NEW_DOMAIN
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    old, new = _resources(ROOT), _resources(directory)
    result = cmp.compare(old, new)
    moves = dns_change.judge_domain_changes(result, old, new)
    return old, new, result, moves


def _change(result, stack, name):
    return next(c for c in result.stacks[stack] if c.resource.name == name)


def test_a_domain_change_is_disruptive_for_the_device_vpc_between_steps_2_and_3(moved):
    _, _, result, moves = moved
    zone = _change(result, "iot", "gatekeeper-zone-custom-domain-zone")
    assert zone.kind == cmp.REPLACED and zone.verdict == cmp.DISRUPTIVE
    (gap,) = [r for r in zone.reasons if r.startswith("DNS gap")]
    assert "VPC of stack network" in gap and f"{OLD_DOMAIN} becomes {NEW_DOMAIN}" in gap
    assert "from release step 2 (iot) until step 3 (network)" in gap
    assert "public DNS" in gap and f"network's ZoneAssociation for {NEW_DOMAIN} closes the gap" in gap
    # The network stack's association moves with it: the old one goes, the new one comes at step 3.
    network = {c.resource.name: c.kind for c in result.stacks["network"]}
    assert network == {"channel-zone-iot-plant-example-com": cmp.DELETED,
                       "channel-zone-mqtt-plant-example-com": cmp.ADDED}
    assert [(m.owner, m.before, m.after, m.associated, m.reassociated) for m in moves if m.owner == "iot"] == [
        ("iot", OLD_DOMAIN, NEW_DOMAIN, ("network",), ("network",))]


def test_a_domain_change_says_the_old_name_stops_working_and_when_consumers_catch_up(moved):
    _, _, result, _ = moved
    served = next(c for c in result.stacks["iot"] if c.resource.type == dns_change.T_DOMAIN_CONFIGURATION)
    assert served.verdict == cmp.DISRUPTIVE
    assert any(f"still connect with {OLD_DOMAIN} fail their TLS handshake" in r for r in served.reasons)
    consumer_zone = _change(result, "consumer", "consumer-zone-custom-domain-zone")
    assert consumer_zone.verdict == cmp.DISRUPTIVE
    (gap,) = [r for r in consumer_zone.reasons if r.startswith("No working name")]
    assert "from release step 2 (iot) until step 4 (consumer)" in gap


def test_the_text_report_carries_the_gap(moved):
    _, _, result, _ = moved
    text = cmp.to_text(result)
    assert "DNS gap for the VPC of stack network" in text and "Verdict: disruptive" in text


# --------------------------------------------------------------------------- #
# Pure cases
# --------------------------------------------------------------------------- #


def _res(stack, type_, name, inputs, id_):
    urn = f"urn:pulumi:{stack}::p::{type_}::{name}"
    return cmp.Resource(stack=stack, type=type_, name=name, urn=urn, id=id_, inputs=inputs, options={})


def _plans(new_host, *, associate_new=True, associated_before=True):
    zone_old = _res("iot", cmp.T_ZONE, "zone", {"name": "a.example.com"}, "ZOLD0000001")
    zone_new = _res("iot", cmp.T_ZONE, "zone", {"name": new_host}, "ZNEW0000001")
    assoc = dns_change.T_ZONE_ASSOCIATION
    old = {"iot": [zone_old],
           "network": [_res("network", assoc, "assoc-a", {"zoneId": "ZOLD0000001", "vpcId": "vpc-00000001"},
                            "assoc-a-1")] if associated_before else []}
    new = {"iot": [zone_new],
           "network": [_res("network", assoc, f"assoc-{new_host}", {"zoneId": "ZNEW0000001", "vpcId": "vpc-00000001"},
                            "assoc-b-1")] if associate_new else []}
    return old, new


def test_a_renamed_zone_associated_elsewhere_is_a_dns_gap():
    old, new = _plans("b.example.com")
    result = cmp.compare(old, new)
    dns_change.judge_domain_changes(result, old, new)
    zone = _change(result, "iot", "zone")
    assert zone.verdict == cmp.DISRUPTIVE
    assert any("from release step 2 (iot) until step 3 (network)" in r for r in zone.reasons)


def test_a_renamed_zone_nothing_reassociates_says_so():
    old, new = _plans("b.example.com", associate_new=False)
    result = cmp.compare(old, new)
    dns_change.judge_domain_changes(result, old, new)
    assert any("nothing in network's new plan associates the zone for b.example.com" in r
               for r in _change(result, "iot", "zone").reasons)


def test_a_zone_of_the_same_name_is_no_dns_change():
    old, new = _plans("a.example.com")
    result = cmp.compare(old, new)
    assert dns_change.judge_domain_changes(result, old, new) == []
    assert all(not r.startswith("DNS gap") for c in result.changes for r in c.reasons)


def test_a_renamed_zone_no_other_account_uses_has_no_gap():
    old, new = _plans("b.example.com", associate_new=False, associated_before=False)
    result = cmp.compare(old, new)
    (move,) = dns_change.judge_domain_changes(result, old, new)
    assert move.associated == ()
    assert all(not r.startswith("DNS gap") for c in result.changes for r in c.reasons)


def test_a_zone_the_base_carries_no_name_for_is_no_dns_change():
    """A base of an earlier shape (no inputs): its one zone is not taken for a renamed one."""
    old, new = _plans("b.example.com")
    old["iot"] = [cmp.Resource(stack="iot", type=cmp.T_ZONE, name="zone", urn="", id="ZOLD0000001", inputs={},
                               options={})]
    assert dns_change.domain_moves(old, new) == []
    # The same zone with its name is one.
    assert len(dns_change.domain_moves(*_plans("b.example.com"))) == 1


def test_the_window_follows_the_release_order():
    assert dns_change.window("iot", "network") == (2, 3)
    assert dns_change.window("iot", "consumer") == (2, 4)
    # A role without a later step has no window.
    assert dns_change.window("iot", "nothing") == (2, None)
