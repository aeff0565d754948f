"""`channelctl plan --compare`: later changes to the example channel, rendered before and after.

Each transition renders the project twice (before, after) and compares the two plans the way
`channelctl plan --compare OLD.json` does; the verdicts are what AWS and the engine do with the
difference (create before delete, fixed names and IPs, record sets, overlapping ranges).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from channelctl.plan import compare as cmp
from channelctl.cli import main
from channelctl.plan.build import EXIT_BAD_INPUT, build_plan
from channelctl.plan.fleet_refresh import fleet_basis
from channelctl.plan.output import to_json
from channelctl.plan.render import RENDER_CACHE, ChannelMocks
from tests.channelctl.plan.test_plan_support import ROOT, copy_project
from tests.docs import read_doc

PREFIX = "private-mqtt-channel:"


def _project(tmp: Path, edits: dict) -> Path:
    copy_project(tmp)
    for stack, edit in edits.items():
        path = tmp / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        config = {k[len(PREFIX):]: v for k, v in document["config"].items()}
        edit(config)
        document["config"] = {PREFIX + k: v for k, v in config.items()}
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return tmp


def _resources(directory: Path):
    plan = build_plan(directory)
    return plan, cmp.plan_resources(plan.stacks)


@pytest.fixture(scope="module")
def example():
    """The committed example stacks: 150,000 devices, two zones, tls-proxy."""
    return _resources(ROOT)


@pytest.fixture
def project(tmp_path_factory):
    def make(**edits):
        return _project(tmp_path_factory.mktemp("project"), edits)

    return make


def _compare(before, after) -> cmp.Comparison:
    (_, old), (plan, new) = before, after
    result = cmp.compare(old, new, basis=fleet_basis(plan.stacks))
    result.checks_passed = plan.passed
    return result


def _changes(result: cmp.Comparison, stack: str, kind: str | None = None) -> dict[str, cmp.Change]:
    return {c.resource.name: c for c in result.stacks[stack] if kind is None or c.kind == kind}


def _set(key, value):
    def edit(config):
        config[key] = value

    return edit


# --------------------------------------------------------------------------- #
# Point 1: the transitions that used to fail, now safe
# --------------------------------------------------------------------------- #


def test_growing_past_an_endpoint_adds_weighted_records(example, project):
    """10,000 -> 150,000 devices: a second iot.data endpoint. The data host's record was a
    simple one that became weighted ones under the same name, which Route 53 refuses while
    the simple one exists."""
    before = _resources(project(iot=_set("expectedDevices", 10000)))
    result = _compare(before, example)
    iot = _changes(result, "iot")
    # Only the proxies' refresh is disruptive (their new endpoint IPs: every device reconnects).
    assert result.verdict == cmp.DISRUPTIVE, cmp.to_text(result)
    assert _disruptive(result) == PROXY_FLEET, cmp.to_text(result)
    assert iot["gatekeeper-iot-data-1"].kind == cmp.ADDED
    # The first endpoint's record stays as it is; the second endpoint adds one.
    assert "gatekeeper-zone-data-a-0" not in iot
    assert iot["gatekeeper-zone-data-a-1"].kind == cmp.ADDED
    assert not [c for c in result.changes if c.kind in (cmp.REPLACED, cmp.DELETED)]
    # The proxies learn the new endpoint IPs: a new template version the group rolls out.
    assert iot["gatekeeper-access-proxy"].kind == cmp.UPDATED
    group = next(c for c in result.stacks["iot"] if c.resource.type == "aws:autoscaling/group:Group")
    assert group.kind == cmp.UPDATED and group.properties == ["launchTemplate"]


PROXY_FLEET = {("aws:autoscaling/group:Group", "gatekeeper-access-proxy"),
               ("aws:ec2/launchTemplate:LaunchTemplate", "gatekeeper-access-proxy")}


def _disruptive(result: cmp.Comparison) -> set[tuple[str, str]]:
    return {(c.resource.type, c.resource.name) for c in result.changes if c.verdict != cmp.SAFE}


def test_doubling_the_fleet_refreshes_the_proxies_in_steps_under_the_connect_quota(example, project):
    """150,000 -> 300,000 devices: a third iot.data endpoint, so new endpoint IPs in the proxies'
    user data, so a new template version, and every proxy is replaced: disruptive, with the
    devices that reconnect, the steps and the time at the CONNECT quota, each with its source."""
    def double(config):
        config["expectedDevices"] = 300_000
        config["deviceAccess"] = {**config["deviceAccess"], "proxyMinSize": 7, "proxyMaxSize": 9}
        # The authorizer's share of the doubled fleet's reconnect storm (the capacity check).
        config["authorizer"] = {**config["authorizer"], "reservedConcurrency": 500}

    after = _resources(project(iot=double))
    result = _compare(example, after)
    assert result.verdict == cmp.DISRUPTIVE and result.exit_code() == 1, cmp.to_text(result)
    assert result.checks_passed, cmp.to_text(result)
    assert _disruptive(result) == PROXY_FLEET, cmp.to_text(result)
    updated = [c for c in result.stacks["iot"] if c.kind == cmp.UPDATED]
    fleet = next(c for c in updated if c.resource.type == "aws:autoscaling/group:Group")
    text = "\n".join(fleet.reasons)
    assert "every one of the 7 proxy instances is replaced" in text
    assert "up to 300,000 devices (expectedDevices of stack iot)" in text
    assert "7 steps of 1 instance (checkpoints 14, 28, 42, 57, 71, 85, 100%; new instance launched first" in text
    maxconn = int(re.search(r"at most ([\d,]+) devices", text).group(1).replace(",", ""))
    assert f"they reconnect in {maxconn / 500:,.0f} s at 500 CONNECT/s" in text
    # facts/iot.json leaves the quota unknown: AWS's default, and the text says so.
    assert "(IoT Core connect quota: AWS default, not read from the account)" in text
    assert "the whole fleet: 300,000 devices reconnect in 600 s of CONNECT quota" in text
    assert "sessions end cleanly" in text and "OVER THE QUOTA" not in text
    template = next(c for c in updated if c.resource.type == "aws:ec2/launchTemplate:LaunchTemplate")
    assert template.properties == ["userData"] and template.verdict == cmp.DISRUPTIVE
    # The preferences the new plan renders: checkpoints and a minimum healthy percentage.
    prefs = fleet.resource.inputs["instanceRefresh"]["preferences"]
    assert prefs["checkpointPercentages"] == [14, 28, 42, 57, 71, 85, 100] and prefs["minHealthyPercentage"] == 100
    # The same refresh against a quota of 100 CONNECT/s (an account whose facts say so) is over it.
    low = {"iot": cmp.FleetBasis(devices=300_000, devices_how="expectedDevices", connects_per_second=100,
                                 quota_how="read from the facts")}
    slow = cmp.compare(example[1], after[1], basis=low)
    over = [r for c in slow.changes for r in c.reasons if r.startswith("OVER THE QUOTA")]
    assert len(over) == 7 and "at 100/s" in over[0]


def test_proxy_fleet_rolls_each_new_template_version(example, project):
    """A new launch template version reaches the fleet: the group names the version (a
    changed reference starts an instance refresh), and the refresh keeps full capacity."""
    (_, old), (_, new) = _resources(project(iot=_set("expectedDevices", 10000))), example
    group_type = "aws:autoscaling/group:Group"
    before = next(r for r in old["iot"] if r.type == group_type)
    after = next(r for r in new["iot"] if r.type == group_type)
    assert before.inputs["launchTemplate"]["version"] != after.inputs["launchTemplate"]["version"]
    assert "$Latest" not in (before.inputs["launchTemplate"]["version"], after.inputs["launchTemplate"]["version"])
    preferences = after.inputs["instanceRefresh"]["preferences"]
    # Staged (components/proxy_refresh.py): one instance at a time, launched first, with checkpoints.
    assert (preferences["minHealthyPercentage"], preferences["maxHealthyPercentage"]) == (100, 100)
    assert preferences["checkpointPercentages"][-1] == 100


def test_adding_a_zone_only_adds(example, project):
    """A third zone in every stack: existing subnets, endpoint, NLB and Resolver IPs stay."""
    def three(config):
        config["availabilityZones"] = [*config["availabilityZones"], "us-west-2c"]

    def three_offering_iot_data(config):
        config["availabilityZones"] = [*config["availabilityZones"], "us-west-2d"]

    after = _resources(project(network=three, consumer=three, iot=three_offering_iot_data))
    result = _compare(example, after)
    # The iot.data endpoints gain an IP in the new zone, which the proxies must learn: a new
    # template version, and so the proxies' refresh, is the one disruptive change.
    assert result.verdict == cmp.DISRUPTIVE and _disruptive(result) == PROXY_FLEET, cmp.to_text(result)
    assert not [c for c in result.changes if c.kind in (cmp.REPLACED, cmp.DELETED)], cmp.to_text(result)
    for stack in ("network", "iot", "consumer"):
        added = [c for c in result.stacks[stack] if c.kind == cmp.ADDED and c.resource.type == cmp.T_SUBNET]
        assert len(added) == 1, stack  # the iot stack's third zone offering iot.data, the others' us-west-2c
    (_, old), (_, new) = example, after
    for stack in ("network", "iot", "consumer"):
        cidrs = {r.name: r.inputs["cidrBlock"] for r in old[stack] if r.type == "aws:ec2/subnet:Subnet"}
        assert {n: c for n, c in ((r.name, r.inputs["cidrBlock"]) for r in new[stack]
                                  if r.type == "aws:ec2/subnet:Subnet") if n in cidrs} == cidrs
    # The Resolver gains an address; the two it had stay.
    resolver = _changes(result, "network")["channel-resolver"]
    assert resolver.kind == cmp.UPDATED and resolver.verdict == cmp.SAFE


def test_rotating_the_custom_domain_certificate_deletes_before_replacing(example, project):
    """A domain name belongs to one domain configuration: its replacement is delete first
    (disruptive: the custom domain is briefly not served), never refused."""
    arn = "arn:aws:acm:us-west-2:222222222222:certificate/11111111-2222-3333-4444-555555555555"
    result = _compare(example, _resources(project(iot=_set("customDomainCertificateArn", arn))))
    domain = next(c for c in result.stacks["iot"] if c.resource.type == "aws:iot/domainConfiguration:DomainConfiguration")
    assert domain.kind == cmp.REPLACED and domain.replace_properties == ["serverCertificateArns"]
    assert domain.resource.options.get("deleteBeforeReplace") is True
    assert domain.verdict == cmp.DISRUPTIVE
    assert result.verdict == cmp.DISRUPTIVE
    # The NLB's TLS listeners change their certificate in place.
    listeners = [c for c in result.stacks["iot"] if c.resource.type == "aws:lb/listener:Listener"]
    assert listeners and {c.kind for c in listeners} == {cmp.UPDATED}


def test_a_new_amazon_linux_ami_does_not_replace_the_application_host(example, project, monkeypatch):
    original = ChannelMocks.call

    def newer_ami(self, args):
        result = original(self, args)
        if args.token == "aws:ssm/getParameter:getParameter":
            result = dict(result, value="ami-0fedcba9876543210")
        return result

    monkeypatch.setattr(ChannelMocks, "call", newer_ami)
    # The render cache keys renders by what the program reads, not by the mocks' answers: this
    # account answers otherwise, so its renders are made anew.
    monkeypatch.setattr(RENDER_CACHE, "enabled", False)
    after = _resources(project())
    result = _compare(example, after)
    host = [r for r in after[1]["consumer"] if r.type == "aws:ec2/instance:Instance"][0]
    assert host.inputs["ami"] == "ami-0fedcba9876543210"  # the render did see the new AMI
    assert "consumer-app" not in _changes(result, "consumer")
    # Pinning an AMI is the deliberate way to move: that replaces the host.
    monkeypatch.setattr(ChannelMocks, "call", original)
    monkeypatch.setattr(RENDER_CACHE, "enabled", True)

    def pinned(config):
        config["applicationHost"] = {**config["applicationHost"], "amiId": "ami-0123456789abcdef0"}

    moved = _compare(example, _resources(project(consumer=pinned)))
    app = _changes(moved, "consumer")["consumer-app"]
    assert app.kind == cmp.REPLACED and app.replace_properties == ["ami"] and app.verdict == cmp.SAFE


# --------------------------------------------------------------------------- #
# Point 3: more transitions end to end
# --------------------------------------------------------------------------- #


def test_adding_a_tag_changes_in_place(example, project):
    def tag(config):
        config["tags"] = {**config["tags"], "team": "plant-iot"}

    result = _compare(example, _resources(project(iot=tag)))
    changes = result.stacks["iot"]
    # The stack's providers (aws, and aws-native for Device Defender) change their default tags.
    assert {c.resource.type for c in changes} <= {"pulumi:providers:aws", "pulumi:providers:aws-native"}
    assert "pulumi:providers:aws" in {c.resource.type for c in changes}
    assert {(c.kind, tuple(c.properties)) for c in changes} == {(cmp.UPDATED, ("defaultTags",))}
    assert result.verdict == cmp.SAFE
    assert result.exit_code() == 0


def test_adding_a_consumer_only_adds(example, project, tmp_path):
    def second(config):
        config["consumers"] = [*config["consumers"], {"name": "billing", "accountId": "444444444444",
                                                      "vpcCidr": "10.40.0.0/16"}]

    result = _compare(example, _resources(project(iot=second)))
    assert result.verdict == cmp.SAFE, cmp.to_text(result)
    service = _changes(result, "iot")["gatekeeper-endpoint-service"]
    assert service.kind == cmp.UPDATED and service.properties == ["allowedPrincipals"]
    assert not [c for c in result.changes if c.kind in (cmp.REPLACED, cmp.DELETED)]


def test_growing_to_1_5_million_devices_only_adds(example, project):
    def grow(config):
        config["expectedDevices"] = 1_500_000
        config["deviceAccess"] = {**config["deviceAccess"], "proxyMinSize": 31, "proxyMaxSize": 40}

    result = _compare(example, _resources(project(iot=grow)))
    assert result.verdict == cmp.DISRUPTIVE and _disruptive(result) == PROXY_FLEET, cmp.to_text(result)
    added = _changes(result, "iot", cmp.ADDED)
    assert "gatekeeper-iot-data-14" in added and "gatekeeper-zone-data-a-14" in added
    assert not [c for c in result.changes if c.kind in (cmp.REPLACED, cmp.DELETED)]


def test_changing_the_device_vpc_range_is_disruptive(example, project):
    def cidr(config):
        config["deviceVpcCidr"] = "10.11.0.0/16"

    result = _compare(example, _resources(project(network=cidr)))
    resolver = _changes(result, "network")["channel-resolver"]
    assert resolver.kind == cmp.REPLACED and resolver.verdict == cmp.DISRUPTIVE
    assert any("Resolver inbound IPs" in r and "10.10.0.10" in r for r in resolver.reasons)
    vpc = _changes(result, "network")["channel-vpc"]
    assert vpc.kind == cmp.REPLACED and vpc.replace_properties == ["cidrBlock"]
    # Subnets follow the VPC into the new range: no overlap with the old VPC's subnets.
    assert not [c for c in result.changes if c.verdict == cmp.REFUSED], cmp.to_text(result)
    # The iot stack's zones stay: only their authorizations follow the new device VPC.
    iot = result.stacks["iot"]
    assert {c.resource.type for c in iot if c.kind == cmp.REPLACED} == {
        "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization"}
    assert result.verdict == cmp.DISRUPTIVE
    assert result.exit_code() == 1 and result.exit_code(allow_disruptive=True) == 0


def test_switching_tls_proxy_to_tcp_passthrough_is_disruptive_and_lists_the_fleet(example, project):
    def passthrough(config):
        access = dict(config["deviceAccess"])
        for key in ("caBundleFile", "proxyInstanceType", "proxyMinSize", "proxyMaxSize"):
            access.pop(key, None)
        config["deviceAccess"] = access | {"mode": "tcp-passthrough"}

    result = _compare(example, _resources(project(iot=passthrough)))
    iot = _changes(result, "iot")
    listener = iot["gatekeeper-access-family1-listener"]
    assert listener.verdict == cmp.DISRUPTIVE
    assert any("what NLB port 8080 leads to" in r for r in listener.reasons)
    deleted = [c for c in result.stacks["iot"] if c.kind == cmp.DELETED]
    fleet = {c.resource.type: c for c in deleted if c.resource.name == "gatekeeper-access-proxy"}
    assert set(fleet) == {"aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate"}
    assert {c.verdict for c in fleet.values()} == {cmp.DISRUPTIVE}
    assert result.verdict == cmp.DISRUPTIVE


def test_moving_the_custom_domain_from_the_nlb_to_the_endpoints_keeps_its_routing_policy(example, project):
    """tls-proxy -> direct: the custom domain's answer moves from the NLB's IPs (one set) to
    the two iot.data endpoints' (two sets). Its records stay weighted: the first changes in
    place, the second is added; devices must follow (disruptive), AWS accepts it."""
    def direct(config):
        config["deviceAccess"] = {"mode": "direct"}

    result = _compare(example, _resources(project(iot=direct)))
    iot = _changes(result, "iot")
    first, second = iot["gatekeeper-zone-custom-domain-a-0"], iot["gatekeeper-zone-custom-domain-a-1"]
    assert (first.kind, second.kind) == (cmp.UPDATED, cmp.ADDED)
    assert first.verdict == cmp.DISRUPTIVE and any("answers for iot.plant.example.com" in r for r in first.reasons)
    assert not [c for c in result.changes if c.verdict == cmp.REFUSED], cmp.to_text(result)


# --------------------------------------------------------------------------- #
# What the old behaviour did, seen by the comparison (so the verdicts can fail)
# --------------------------------------------------------------------------- #


def _res(stack, type_, name, inputs, id_=None, options=None):
    return cmp.Resource(stack=stack, type=type_, name=name, urn=f"urn:{stack}:{type_}:{name}", id=id_ or f"{name}-id0000",
                        inputs=inputs, options=options or {}, tokens=(id_ or f"{name}-id0000",))


def test_simple_record_becoming_weighted_records_is_refused():
    zone = {"zoneId": "Z1", "name": "data.example.com", "type": "A"}
    old = {"iot": [_res("iot", cmp.T_RECORD, "zone-a", zone | {"records": ["10.0.0.10"]})]}
    new = {"iot": [_res("iot", cmp.T_RECORD, f"zone-a-{i}", zone | {
        "records": [f"10.0.0.{10 + i}"], "setIdentifier": f"endpoint-{i}", "weightedRoutingPolicies": [{"weight": 1}]})
        for i in range(2)]}
    result = cmp.compare(old, new)
    assert result.verdict == cmp.REFUSED
    assert all("one routing policy" in c.reasons[0] for c in result.changes if c.kind == cmp.ADDED)


def test_subnet_resplit_is_refused_and_fixed_slots_are_not():
    vpc = {"vpcId": "vpc-1"}
    old = {"s": [_res("s", cmp.T_SUBNET, "a", vpc | {"cidrBlock": "10.0.0.0/17"}),
                 _res("s", cmp.T_SUBNET, "b", vpc | {"cidrBlock": "10.0.128.0/17"})]}
    resplit = {"s": [_res("s", cmp.T_SUBNET, "a", vpc | {"cidrBlock": "10.0.0.0/18"}),
                     _res("s", cmp.T_SUBNET, "b", vpc | {"cidrBlock": "10.0.64.0/18"}),
                     _res("s", cmp.T_SUBNET, "c", vpc | {"cidrBlock": "10.0.128.0/18"})]}
    result = cmp.compare(old, resplit)
    assert result.verdict == cmp.REFUSED
    assert {c.resource.name for c in result.changes if c.verdict == cmp.REFUSED} == {"a", "b", "c"}
    added = {"s": [*old["s"], _res("s", cmp.T_SUBNET, "c", vpc | {"cidrBlock": "10.1.0.0/17"})]}
    assert cmp.compare(old, added).verdict == cmp.SAFE


def test_domain_configuration_replaced_create_before_delete_is_refused():
    type_ = "aws:iot/domainConfiguration:DomainConfiguration"
    old_inputs = {"name": "mqtt-iot", "domainName": "iot.example.com", "serverCertificateArns": ["arn:1"]}
    new_inputs = old_inputs | {"serverCertificateArns": ["arn:2"]}
    old = {"iot": [_res("iot", type_, "domain", old_inputs)]}
    refused = cmp.compare(old, {"iot": [_res("iot", type_, "domain", new_inputs)]})
    assert refused.verdict == cmp.REFUSED
    assert "still holds" in refused.changes[0].reasons[0]
    renamed = cmp.compare(old, {"iot": [_res("iot", type_, "domain", old_inputs | {"name": "mqtt-iot-2"})]})
    assert renamed.verdict == cmp.REFUSED  # the domain name is still held by the old configuration
    deleted_first = cmp.compare(old, {"iot": [_res("iot", type_, "domain", new_inputs,
                                                    options={"deleteBeforeReplace": True})]})
    assert deleted_first.verdict == cmp.DISRUPTIVE


def test_an_instance_replaced_on_a_new_ami_is_seen():
    type_ = "aws:ec2/instance:Instance"
    old = {"c": [_res("c", type_, "app", {"ami": "ami-1", "instanceType": "t4g.small"})]}
    new = {"c": [_res("c", type_, "app", {"ami": "ami-2", "instanceType": "t4g.small"})]}
    (change,) = cmp.compare(old, new).changes
    assert change.kind == cmp.REPLACED
    ignoring = {"c": [_res("c", type_, "app", {"ami": "ami-2", "instanceType": "t4g.small"},
                           options={"ignoreChanges": ["ami"]})]}
    assert cmp.compare(old, ignoring).changes == []


def test_replacement_marks_inputs_that_carried_the_old_id():
    old = {"s": [_res("s", "aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, id_="vpc-0123456789"),
                 _res("s", cmp.T_SUBNET, "a", {"vpcId": "vpc-0123456789", "cidrBlock": "10.0.0.0/19"})]}
    new = {"s": [_res("s", "aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.1.0.0/16"}, id_="vpc-0123456789"),
                 _res("s", cmp.T_SUBNET, "a", {"vpcId": "vpc-0123456789", "cidrBlock": "10.1.0.0/19"})]}
    changes = {c.resource.name: c for c in cmp.compare(old, new).changes}
    assert changes["a"].kind == cmp.REPLACED and changes["a"].replace_properties == ["cidrBlock", "vpcId"]
    assert changes["a"].verdict == cmp.SAFE  # a new VPC: nothing overlaps there


def test_a_resource_keeps_its_id_until_it_is_replaced():
    """Two renders may derive different IDs for the same resource; only a replacement changes it."""
    service_type = "aws:ec2/vpcEndpointService:VpcEndpointService"
    old = {"iot": [_res("iot", service_type, "svc", {"acceptanceRequired": True}, id_="vpce-svc-aaaaaaaaaa")],
           "consumer": [_res("consumer", cmp.T_ENDPOINT, "ep", {"serviceName": "com.amazonaws.vpce.vpce-svc-aaaaaaaaaa"})]}
    new = {"iot": [_res("iot", service_type, "svc", {"acceptanceRequired": True}, id_="vpce-svc-bbbbbbbbbb")],
           "consumer": [_res("consumer", cmp.T_ENDPOINT, "ep", {"serviceName": "com.amazonaws.vpce.vpce-svc-bbbbbbbbbb"})]}
    assert cmp.compare(old, new).changes == []


def test_a_replaced_provider_replaces_its_resources():
    provider_type = "pulumi:providers:aws"
    provider_id = "default-provider-id"
    old_provider = _res("s", provider_type, "aws", {"region": "us-west-2"}, id_=provider_id)
    vpc = _res("s", "aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    vpc.provider = f"{old_provider.urn}::{provider_id}"
    moved = _res("s", provider_type, "aws", {"region": "eu-west-1"}, id_=provider_id)
    changes = {c.resource.name: c for c in cmp.compare({"s": [old_provider, vpc]}, {"s": [moved, vpc]}).changes}
    assert changes["aws"].kind == cmp.REPLACED and changes["aws"].replace_properties == ["region"]
    assert changes["vpc"].kind == cmp.REPLACED and changes["vpc"].replace_properties == ["provider"]
    tagged = _res("s", provider_type, "aws", {"region": "us-west-2", "defaultTags": {"tags": {"a": "b"}}}, id_=provider_id)
    changes = {c.resource.name: c for c in cmp.compare({"s": [old_provider, vpc]}, {"s": [tagged, vpc]}).changes}
    assert changes == {"aws": changes["aws"]} and changes["aws"].kind == cmp.UPDATED


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def test_compare_command_text_and_json(tmp_path, capsys, example, project, monkeypatch):
    old_file = tmp_path / "deployed.json"
    main(["plan", "--cwd", str(project(iot=_set("expectedDevices", 10000))), "--format", "json"])
    old_file.write_text(capsys.readouterr().out)
    # As the docs show it: the default width, OLD named as a reader would name it.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(["plan", "--cwd", str(ROOT), "--compare", "deployed.json"])
    out = capsys.readouterr().out
    assert code == 1, out  # the proxies' refresh is disruptive
    assert re.search(r"^Stack iot: \d+ added, \d+ changed in place, 0 replaced, 0 deleted$", out, re.M)
    assert "+  route53.Record gatekeeper-zone-data-a-1" in out
    # docs/release-and-review.md shows this very comparison.
    page = read_doc("docs/release-and-review.md")
    section = page.split("Growing the example fleet from 10,000 to 150,000 devices", 1)[1]
    example = re.search(r"```\n(.*?)```", section, re.S).group(1)
    assert out == example
    code = main(["plan", "--cwd", str(ROOT), "--compare", str(old_file), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["verdict"] == "disruptive" and data["exitCode"] == 1
    iot = next(s for s in data["stacks"] if s["name"] == "iot")
    assert {"type": "aws:route53/record:Record", "name": "gatekeeper-zone-data-a-1", "verdict": "safe"} in iot["added"]


def test_compare_command_exits_1_for_disruptive_unless_allowed(tmp_path, capsys, project):
    old_file = tmp_path / "old.json"
    main(["plan", "--cwd", str(ROOT), "--format", "json"])
    old_file.write_text(capsys.readouterr().out)
    changed = project(network=_set("deviceVpcCidr", "10.11.0.0/16"))
    assert main(["plan", "--cwd", str(changed), "--compare", str(old_file)]) == 1
    assert "DISRUPTIVE" in capsys.readouterr().out
    assert main(["plan", "--cwd", str(changed), "--compare", str(old_file), "--allow-disruptive"]) == 0
    assert "allowed (--allow-disruptive)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not JSON"),
        # A base without inputs (an earlier channelctl's) is compared as far as it can tell
        # (tests/channelctl/plan/test_compare_base.py); one without resource types is no plan.
        ('{"stacks": [{"name": "iot", "resources": [{"id": "vpc-1"}]}]}', "a resource without 'type' or 'name'"),
        ('{"project": "x"}', "no 'stacks' list"),
    ],
    ids=["not-json", "no-type", "no-stacks"],
)
def test_compare_bad_input_exits_2(tmp_path, capsys, content, message):
    old_file = tmp_path / "old.json"
    old_file.write_text(content)
    assert main(["plan", "--cwd", str(ROOT), "--compare", str(old_file)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and len(captured.err.splitlines()) == 1


def test_an_unknown_resource_type_cannot_be_classified(example):
    _, new = example
    strange = {**new, "iot": [*new["iot"], _res("iot", "aws:sqs/queue:Queue", "queue", {"name": "q"})]}
    with pytest.raises(cmp.CompareInputError, match="aws:sqs/queue:Queue"):
        cmp.compare(new, strange)


def test_plan_json_resources_carry_inputs_and_options(example):
    plan, _ = example
    data = json.loads(json.dumps(to_json(plan), default=str))
    iot = next(s for s in data["stacks"] if s["name"] == "iot")
    by_name = {(r["type"], r["name"]): r for r in iot["resources"]}
    subnet = next(r for (t, _), r in by_name.items() if t == "aws:ec2/subnet:Subnet")
    assert subnet["inputs"]["cidrBlock"] and subnet["urn"].startswith("urn:pulumi:iot::")
    domain = next(r for (t, _), r in by_name.items() if t == "aws:iot/domainConfiguration:DomainConfiguration")
    assert domain["options"] == {"deleteBeforeReplace": True}
    function = by_name[("aws:lambda/function:Function", "gatekeeper-authorizer-function")]
    # The Lambda's code is its content's hash, not a path on this machine.
    archive = function["inputs"]["code"]["archive"]
    assert archive and all(set(v) == {"sha256"} for v in archive.values())
