"""The plan's checks over the rendered example stacks, each one seen passing and failing.

Every mutation breaks one thing in a deep copy of the rendered plan and names
the checks that must fail: exactly those, and no other. The deployable check's
breaks are in test_checks_deployable.py, the isolation check against the policy
pack's rules in test_checks_policy_pack.py; checks_support.py holds what they share.
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from channelctl.plan.checks import (
    ACCOUNTS,
    CAPACITY,
    COHERENCE,
    CONSUMER_PATH,
    DEPLOYABLE,
    DEVICES_DNS,
    DEVICES_PATH,
    ISOLATION,
    OBSERVABILITY,
    connect_problems,
    run_checks,
)
from channelctl.plan.checks.addresses import ADDRESSES
from channelctl.plan.checks.ordering import ORDERING
from tests.channelctl.plan.checks_support import (  # noqa: F401 (fixtures)
    ASG,
    assert_break_fails_exactly,
    ingress_rule,
    plan,
    stacks,
)
from tests.channelctl.plan.test_plan_support import (
    add,
    failing,
    remove,
    resource,
    resources_of,
    stacks_of,
)

CONSUMER = f"{CONSUMER_PATH}:consumer"


# --------------------------------------------------------------------------- #
# Mutations: (id, function, the checks that must fail)
# --------------------------------------------------------------------------- #


def drop_tgw_route_to_gatekeeper(s):
    remove(s, "network", "channel-tgw-route-gatekeeper")


def dx_prefixes_without_gatekeeper(s):
    resource(s, "network", "channel-dxgw-tgw").inputs["allowedPrefixes"] = ["10.10.0.0/16"]


def gatekeeper_route_to_on_prem_removed(s):
    remove(s, "iot", "gatekeeper-route-onprem-192-168-0-0-16")


def data_sg_8883_not_from_on_prem(s):
    rule = ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg"), 8883)
    rule["cidrBlocks"] = [c for c in rule["cidrBlocks"] if c != "192.168.0.0/16"]


def gatekeeper_attachment_not_accepted(s):
    remove(s, "network", "channel-gatekeeper-accepter")


def proxy_sees_clients_but_admits_only_nlb(s):
    """Client IP preservation on: the proxies see devices' addresses, but admit only the NLB's."""
    for name in ("gatekeeper-access-family1", "gatekeeper-access-family2"):
        resource(s, "iot", name, "aws:lb/targetGroup:TargetGroup").inputs["preserveClientIp"] = "true"


def no_transit_vif(s):
    remove(s, "network", "channel-transit-vif")


def credentials_zone_not_associated(s):
    remove(s, "network", "channel-zone-c1d2e3f4a5b6c7-credentials-iot-us-west-2")


def custom_domain_zone_not_authorized(s):
    remove(s, "iot", "gatekeeper-zone-custom-domain-auth-0")


def resolver_sg_without_udp(s):
    sg = resource(s, "network", "channel-resolver-sg")
    sg.inputs["ingress"] = [r for r in sg.inputs["ingress"] if r["protocol"] != "udp"]


def device_vpc_route_to_on_prem_removed(s):
    remove(s, "network", "channel-route-onprem-192-168-0-0-16")


def custom_domain_resolves_to_endpoints(s):
    resource(s, "iot", "gatekeeper-zone-custom-domain-a-0").inputs["records"] = ["10.20.0.10", "10.20.32.10"]


def device_vpc_without_dns_hostnames(s):
    resource(s, "network", "channel-vpc").inputs["enableDnsHostnames"] = False


def consumer_principal_dropped(s):
    resource(s, "iot", "gatekeeper-endpoint-service").inputs["allowedPrincipals"] = []


def consumer_connection_not_accepted(s):
    remove(s, "iot", "gatekeeper-accept-analytics")


def consumer_zone_points_elsewhere(s):
    record = resource(s, "consumer", "consumer-zone-data-alias")
    record.inputs["aliases"] = [dict(record.inputs["aliases"][0], name="gatekeeper-nlb-3a720339.elb.us-west-2.amazonaws.com")]


def consumer_endpoint_to_other_service(s):
    resource(s, "consumer", "consumer-endpoint").inputs["serviceName"] = "com.amazonaws.vpce.us-west-2.vpce-svc-0000000000000000a"


def nlb_target_dropped(s):
    remove(s, "iot", "gatekeeper-tg-8883-10-20-0-10")


def nlb_egress_to_data_8883_removed(s):
    sg = resource(s, "iot", "gatekeeper-nlb-sg")
    sg.inputs["egress"] = [r for r in sg.inputs["egress"] if int(r["fromPort"]) != 8883]


def data_sg_8883_not_from_nlb(s):
    rule = ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg"), 8883)
    rule["cidrBlocks"] = [c for c in rule["cidrBlocks"] if c != "10.20.0.0/16"]


def resolver_udp_open_to_world(s):
    sg = resource(s, "network", "channel-resolver-sg")
    next(r for r in sg.inputs["ingress"] if r["protocol"] == "udp")["cidrBlocks"].append("0.0.0.0/0")


def internet_gateway_added(s):
    add(s, "consumer", "aws:ec2/internetGateway:InternetGateway", "consumer-igw", "igw-0123456789abcdef0",
        {"vpcId": resource(s, "consumer", "consumer-vpc").id})


def subnet_maps_public_ips(s):
    resource(s, "consumer", "consumer-subnet-us-west-2b").inputs["mapPublicIpOnLaunch"] = True


def app_host_public_ip(s):
    resource(s, "consumer", "consumer-app").inputs["associatePublicIpAddress"] = True


def nlb_reaches_credentials_endpoint(s):
    arn = resource(s, "iot", "gatekeeper-tg-443").state["arn"]
    add(s, "iot", "aws:lb/targetGroupAttachment:TargetGroupAttachment", "gatekeeper-tg-443-creds", "tga-creds",
        {"targetGroupArn": arn, "targetId": "10.20.0.6", "port": 443.0})


def thing_policy_connect_unconditioned(s):
    policy = resource(s, "iot", "gatekeeper-thing-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"][0].pop("Condition")
    policy.inputs["policy"] = json.dumps(document)


def authorizer_trusts_foreign_endpoint(s):
    env = resource(s, "iot", "gatekeeper-authorizer-function").inputs["environment"]["variables"]
    env["DATA_ENDPOINT_IDS"] += ",vpce-0123456789abcdef0"


def endpoint_service_open_to_all(s):
    service = resource(s, "iot", "gatekeeper-endpoint-service")
    service.inputs["allowedPrincipals"] = list(service.inputs["allowedPrincipals"]) + ["*"]


def default_route_in_gatekeeper(s):
    table = resource(s, "iot", "gatekeeper-rt")
    tgw = resource(s, "network", "channel-tgw").id
    add(s, "iot", "aws:ec2/route:Route", "gatekeeper-default", "r-default",
        {"routeTableId": table.id, "destinationCidrBlock": "0.0.0.0/0", "transitGatewayId": tgw})


def gatekeeper_routes_split_default(s):
    """The whole internet in two halves: no single /0, still every public address."""
    table = resource(s, "iot", "gatekeeper-rt")
    tgw = resource(s, "network", "channel-tgw").id
    for index, half in enumerate(("0.0.0.0/1", "128.0.0.0/1")):
        add(s, "iot", "aws:ec2/route:Route", f"gatekeeper-half-{index}", f"r-half-{index}",
            {"routeTableId": table.id, "destinationCidrBlock": half, "transitGatewayId": tgw})


def resolver_udp_open_to_a_public_network(s):
    sg = resource(s, "network", "channel-resolver-sg")
    next(r for r in sg.inputs["ingress"] if r["protocol"] == "udp")["cidrBlocks"].append("8.8.8.0/24")


def nlb_internet_facing(s):
    resource(s, "iot", "gatekeeper-nlb").inputs["internal"] = False


def more_devices_than_endpoints_hold(s):
    s["iot"].config["expectedDevices"] = 250_000


def proxy_fleet_too_small(s):
    group = resource(s, "iot", "gatekeeper-access-proxy", ASG)
    group.inputs["desiredCapacity"] = 1.0
    group.inputs["minSize"] = 1.0


def data_record_of_one_endpoint_removed(s):
    remove(s, "iot", "gatekeeper-zone-data-a-1")


PROVIDER = "pulumi:providers:aws"


def _provider(s, stack):
    return next(r for r in resources_of(s, stack, PROVIDER))


def consumer_in_another_region(s):
    _provider(s, "consumer").inputs["region"] = "us-east-1"


def network_in_another_region(s):
    _provider(s, "network").inputs["region"] = "eu-west-1"


def tgw_shared_with_another_account(s):
    s["network"].config["iotAccountId"] = "999999999999"
    resource(s, "network", "channel-tgw-share-iot").inputs["principal"] = "999999999999"


def network_routes_another_gatekeeper_range(s):
    s["network"].config["gatekeeperVpcCidr"] = "10.21.0.0/16"


def consumer_account_not_listed(s):
    s["iot"].config["consumers"] = [{"name": "other", "accountId": "444444444444"}]


def consumer_listed_by_account_with_another_range(s):
    s["iot"].config["consumers"] = [{"name": "analytics", "accountId": "333333333333", "vpcCidr": "10.31.0.0/16"}]


def consumer_entry_names_the_stack_with_another_account(s):
    s["iot"].config["consumers"][0]["accountId"] = "444444444444"


def tgw_shared_inside_the_organization_but_accepted_as_invitation(s):
    resource(s, "network", "channel-tgw-share").inputs["allowExternalPrincipals"] = False


def tgw_share_invitation_never_accepted(s):
    remove(s, "iot", "gatekeeper-tgw-share", "aws:ram/resourceShareAccepter:ResourceShareAccepter")


def _rename_reference(s, stack, value):
    ref = next(r for r in resources_of(s, stack, "pulumi:pulumi:StackReference"))
    s[stack].config["iotStack"] = value
    ref.state["name"] = value


def reference_to_another_organization(s):
    _rename_reference(s, "consumer", "acme2/private-mqtt-channel/iot")


def reference_to_another_project(s):
    _rename_reference(s, "consumer", "acme/other-project/iot")


def consumer_endpoint_in_a_zone_the_service_does_not_offer(s):
    """The consumer's us-west-2a is usw2-az2; the service's NLB is in usw2-az1 and usw2-az3."""
    subnet = resource(s, "consumer", "consumer-subnet-us-west-2b")
    add(s, "consumer", "aws:ec2/subnet:Subnet", "consumer-subnet-us-west-2a", "subnet-0aaaaaaaaaaaaaaaa",
        dict(subnet.inputs, availabilityZone="us-west-2a", cidrBlock="10.30.128.0/18"),
        state={"availabilityZoneId": "usw2-az2"})
    endpoint = resource(s, "consumer", "consumer-endpoint")
    endpoint.inputs["subnetIds"] = list(endpoint.inputs["subnetIds"]) + ["subnet-0aaaaaaaaaaaaaaaa"]


def s3_interface_endpoint_removed(s):
    remove(s, "iot", "gatekeeper-s3")


def s3_sg_443_not_from_on_prem(s):
    rule = ingress_rule(resource(s, "iot", "gatekeeper-s3-sg"), 443)
    rule["cidrBlocks"] = [c for c in rule["cidrBlocks"] if c != "192.168.0.0/16"]


def data_sg_without_greengrass_data_plane_port(s):
    sg = resource(s, "iot", "gatekeeper-iot-data-sg")
    sg.inputs["ingress"] = [r for r in sg.inputs["ingress"] if int(r["fromPort"]) != 8443]


def s3_bucket_names_unanswered(s):
    remove(s, "iot", "gatekeeper-zone-s3-a-0-wildcard")


def s3_zone_not_associated(s):
    remove(s, "network", "channel-zone-s3-us-west-2-amazonaws-com")


def credentials_endpoint_removed_with_greengrass_on(s):
    remove(s, "iot", "gatekeeper-iot-credentials")


def proxy_fleet_without_an_instance_to_lose(s):
    """3 x t4g.medium hold 150,000 devices only while all three run."""
    group = resource(s, "iot", "gatekeeper-access-proxy", ASG)
    group.inputs["desiredCapacity"] = group.inputs["minSize"] = 3.0


def edit_proxy_config(s, pattern, replacement):
    template = resource(s, "iot", "gatekeeper-access-proxy", "aws:ec2/launchTemplate:LaunchTemplate")
    text = base64.b64decode(template.inputs["userData"]).decode()
    edited, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count, pattern
    template.inputs["userData"] = base64.b64encode(edited.encode()).decode()


def proxy_maxconn_beyond_its_memory(s):
    edit_proxy_config(s, r"^(    maxconn) \d+$", r"\1 100000")


def reconnect_slower_than_target(s):
    s["iot"].config["capacity"] = {"reconnectTargetSeconds": 200}
    # An authorizer with room to spare (900 / 420 ms per CONNECT = 2,141/s): the IoT quota is the bottleneck.
    roomy_authorizer(s)


def roomy_authorizer(s):
    resource(s, "iot", "gatekeeper-authorizer-function", "aws:lambda/function:Function").inputs[
        "reservedConcurrentExecutions"] = 900.0


def authorizer_too_slow_for_a_storm(s):
    function = resource(s, "iot", "gatekeeper-authorizer-function", "aws:lambda/function:Function")
    function.inputs["environment"]["variables"]["UNKNOWN_USER_HASH"] = "scrypt"
    function.inputs["reservedConcurrentExecutions"] = 20.0


def device_keep_alive_beyond_the_endpoint_cap(s):
    s["iot"].config["capacity"] = {"deviceKeepAliveSeconds": 240}


def nlb_tcp_idle_timeout_below_keep_alive(s):
    resource(s, "iot", "gatekeeper-listener-8883", "aws:lb/listener:Listener").inputs["tcpIdleTimeoutSeconds"] = 300.0


def proxy_client_timeout_below_keep_alive(s):
    edit_proxy_config(s, r"^(    timeout client) \d+s$", r"\1 300s")


MUTATIONS = [
    (drop_tgw_route_to_gatekeeper, {DEVICES_PATH}),
    (dx_prefixes_without_gatekeeper, {DEVICES_PATH}),
    (gatekeeper_route_to_on_prem_removed, {DEVICES_PATH}),
    (data_sg_8883_not_from_on_prem, {DEVICES_PATH}),
    (gatekeeper_attachment_not_accepted, {DEVICES_PATH}),
    (proxy_sees_clients_but_admits_only_nlb, {DEVICES_PATH}),
    # Without a transit VIF neither the endpoints nor the Resolver are reachable.
    (no_transit_vif, {DEVICES_PATH, DEVICES_DNS}),
    (credentials_zone_not_associated, {DEVICES_DNS}),
    (custom_domain_zone_not_authorized, {DEVICES_DNS}),
    (resolver_sg_without_udp, {DEVICES_DNS}),
    (device_vpc_route_to_on_prem_removed, {DEVICES_DNS}),
    (custom_domain_resolves_to_endpoints, {DEVICES_DNS}),
    (device_vpc_without_dns_hostnames, {DEVICES_DNS}),
    # Greengrass core devices (AWS's core-device-in-VPC guide): S3 and iot.credentials
    # interface endpoints, the data plane port on iot.data, S3's host and bucket names.
    (s3_interface_endpoint_removed, {DEVICES_PATH, DEVICES_DNS}),
    (s3_sg_443_not_from_on_prem, {DEVICES_PATH}),
    (data_sg_without_greengrass_data_plane_port, {DEVICES_PATH}),
    (s3_bucket_names_unanswered, {DEVICES_DNS}),
    (s3_zone_not_associated, {DEVICES_DNS}),
    (credentials_endpoint_removed_with_greengrass_on, {DEVICES_PATH}),
    (consumer_principal_dropped, {CONSUMER}),
    (consumer_connection_not_accepted, {CONSUMER}),
    (consumer_zone_points_elsewhere, {CONSUMER}),
    # An endpoint to a service no stack builds is also a way out of the channel (isolation).
    (consumer_endpoint_to_other_service, {CONSUMER, ISOLATION}),
    (consumer_endpoint_in_a_zone_the_service_does_not_offer, {CONSUMER}),
    (nlb_target_dropped, {CONSUMER}),
    (nlb_egress_to_data_8883_removed, {CONSUMER}),
    (data_sg_8883_not_from_nlb, {CONSUMER}),
    (resolver_udp_open_to_world, {ISOLATION}),
    (internet_gateway_added, {ISOLATION}),
    (subnet_maps_public_ips, {ISOLATION}),
    (app_host_public_ip, {ISOLATION}),
    (nlb_reaches_credentials_endpoint, {ISOLATION}),
    (thing_policy_connect_unconditioned, {ISOLATION}),
    (authorizer_trusts_foreign_endpoint, {ISOLATION}),
    (endpoint_service_open_to_all, {ISOLATION}),
    (default_route_in_gatekeeper, {ISOLATION}),
    (gatekeeper_routes_split_default, {ISOLATION}),
    (resolver_udp_open_to_a_public_network, {ISOLATION}),
    (nlb_internet_facing, {ISOLATION}),
    (more_devices_than_endpoints_hold, {CAPACITY}),
    (proxy_fleet_too_small, {CAPACITY}),
    # One endpoint left in DNS: the host resolves wrongly and the other endpoint takes every device.
    (data_record_of_one_endpoint_removed, {DEVICES_DNS, CAPACITY}),
    (consumer_in_another_region, {COHERENCE}),
    (network_in_another_region, {COHERENCE}),
    (tgw_shared_with_another_account, {COHERENCE}),
    (network_routes_another_gatekeeper_range, {COHERENCE}),
    (consumer_account_not_listed, {COHERENCE}),
    (consumer_listed_by_account_with_another_range, {COHERENCE}),
    (consumer_entry_names_the_stack_with_another_account, {COHERENCE}),
    (reference_to_another_organization, {COHERENCE}),
    (reference_to_another_project, {COHERENCE}),
    (tgw_shared_inside_the_organization_but_accepted_as_invitation, {COHERENCE}),
    (tgw_share_invitation_never_accepted, {COHERENCE}),
    (proxy_fleet_without_an_instance_to_lose, {CAPACITY}),
    (proxy_maxconn_beyond_its_memory, {CAPACITY}),
    (reconnect_slower_than_target, {CAPACITY}),
    (authorizer_too_slow_for_a_storm, {CAPACITY}),
    (device_keep_alive_beyond_the_endpoint_cap, {CAPACITY}),
    (nlb_tcp_idle_timeout_below_keep_alive, {CAPACITY}),
    (proxy_client_timeout_below_keep_alive, {CAPACITY}),
]

# What each coherence break says: the stack file and the key to change.
COHERENCE_PROBLEMS = [
    (consumer_in_another_region, r"^Pulumi\.consumer\.yaml: key 'private-mqtt-channel:region': us-east-1 differs "
                                 r"from Pulumi\.iot\.yaml's region us-west-2.*cross-Region PrivateLink"),
    (network_in_another_region, r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:region': us-west-2 differs from "
                                r"Pulumi\.network\.yaml's region eu-west-1.*Transit Gateway of its own Region"),
    (tgw_shared_with_another_account, r"^Pulumi\.network\.yaml: key 'private-mqtt-channel:iotAccountId': "
                                      r"999999999999 is not the account of the iot stack \(Pulumi\.iot\.yaml accountId "
                                      r"222222222222\)"),
    (network_routes_another_gatekeeper_range, r"^Pulumi\.network\.yaml: key 'private-mqtt-channel:gatekeeperVpcCidr': "
                                              r"10\.21\.0\.0/16 differs from Pulumi\.iot\.yaml's gatekeeperVpcCidr "
                                              r"10\.20\.0\.0/16"),
    (consumer_account_not_listed, r"^Pulumi\.consumer\.yaml: key 'private-mqtt-channel:accountId': account "
                                  r"333333333333 is in no entry of Pulumi\.iot\.yaml key 'private-mqtt-channel:consumers'"),
    (consumer_listed_by_account_with_another_range, r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers\[0\]\."
                                                    r"vpcCidr': 10\.31\.0\.0/16 differs from Pulumi\.consumer\.yaml's "
                                                    r"vpcCidr 10\.30\.0\.0/16"),
    (consumer_entry_names_the_stack_with_another_account, r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:consumers"
                                                          r"\[0\]\.accountId': 444444444444 is not the account of the "
                                                          r"stack its 'stack' key names \(Pulumi\.consumer\.yaml "
                                                          r"accountId 333333333333\)"),
    (reference_to_another_organization, r"more than one organization: 'acme' in .*; 'acme2' in Pulumi\.consumer\.yaml: "
                                        r"key 'private-mqtt-channel:iotStack'"),
    (tgw_shared_inside_the_organization_but_accepted_as_invitation,
     r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:sameOrganization': false differs from Pulumi\.network\.yaml's "
     r"sameOrganization true .* \(network:channel-tgw-share shares inside the organization, which sends no "
     r"invitation, but iot:gatekeeper-tgw-share waits for one\)"),
    (tgw_share_invitation_never_accepted,
     r"^Pulumi\.iot\.yaml: key 'private-mqtt-channel:sameOrganization': true differs from Pulumi\.network\.yaml's "
     r"sameOrganization false .* \(network:channel-tgw-share allows external principals, but nothing in iot "
     r"accepts its invitation\)"),
    (reference_to_another_project, r"^Pulumi\.consumer\.yaml: key 'private-mqtt-channel:iotStack': stack reference "
                                   r"'acme/other-project/iot' names project 'other-project'"),

]


def test_checks_are_named_and_ordered(plan):
    assert [r.name for r in run_checks(plan.stacks)] == [DEVICES_PATH, DEVICES_DNS, CONSUMER, ISOLATION, CAPACITY,
                                                         COHERENCE, OBSERVABILITY, ADDRESSES, ORDERING, ACCOUNTS,
                                                         DEPLOYABLE]


def test_example_plan_passes_every_check(stacks):
    results = run_checks(stacks)
    assert failing(results) == set(), [p for r in results for p in r.problems]
    for result in results:
        assert result.verified, result.name
        assert result.resources, result.name


@pytest.mark.parametrize("mutate, expected", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_each_break_fails_exactly_its_checks(stacks, mutate, expected):
    assert_break_fails_exactly(stacks, mutate, expected)


@pytest.mark.parametrize("mutate, pattern", COHERENCE_PROBLEMS, ids=[m.__name__ for m, _ in COHERENCE_PROBLEMS])
def test_coherence_names_the_file_and_the_key(stacks, mutate, pattern):
    mutate(stacks)
    result = next(r for r in run_checks(stacks) if r.name == COHERENCE)
    assert any(re.search(pattern, p) for p in result.problems), result.problems


def test_coherence_matches_an_entry_without_stack_by_account(stacks):
    """Step 2 of adding a consumer: its entry has no stack: yet, and its account and range match."""
    del stacks["iot"].config["consumers"][0]["stack"]
    result = next(r for r in run_checks(stacks) if r.name == COHERENCE)
    assert result.passed, result.problems
    assert "consumers[0] (analytics) is stack consumer, matched by account 333333333333" in result.verified


def capacity_of(stacks):
    return next(r for r in run_checks(stacks) if r.name == CAPACITY)


def test_the_storm_names_each_stage_and_the_bottleneck(stacks):
    result = capacity_of(stacks)
    stages = [v for v in result.verified if v.startswith("reconnect storm, ")]
    assert [v.split(":")[0] for v in stages] == [
        "reconnect storm, proxy TLS handshakes", "reconnect storm, custom authorizer",
        "reconnect storm, IoT Core CONNECT quota"]
    # 150,000 devices at 286 CONNECT/s: 120 executions / 420 ms per CONNECT (every registered scheme verified,
    # and a first legacy login's re-hash), under the default 500 CONNECT/s.
    assert "150,000 devices reconnect in 525 s, bottleneck custom authorizer" in result.detail + " ".join(result.verified)
    assert any("4 x t4g.medium (2 vCPU)" in v for v in stages)


def test_a_storm_over_target_says_how_to_fix_it(stacks):
    reconnect_slower_than_target(stacks)
    (problem,) = capacity_of(stacks).problems
    assert re.search(r"reconnect in 300 s, bottleneck IoT Core CONNECT quota at 500/s .* too slow: IoT Core CONNECT "
                     r"quota needs 750/s; ask AWS to raise .* set capacity.iotConnectsPerSecond", problem)


def test_a_raised_quota_is_used(stacks):
    stacks["iot"].config["capacity"] = json.dumps({"reconnectTargetSeconds": 200, "iotConnectsPerSecond": 1000})
    roomy_authorizer(stacks)
    result = capacity_of(stacks)
    assert result.passed, result.problems
    assert "full reconnect in 150 s (bottleneck IoT Core CONNECT quota" in result.detail


def test_a_slow_authorizer_is_the_bottleneck_and_its_fix_is_named(stacks):
    authorizer_too_slow_for_a_storm(stacks)
    (problem,) = capacity_of(stacks).problems
    assert "bottleneck custom authorizer" in problem and "raise authorizer.reservedConcurrency" in problem


def test_an_idle_timeout_below_the_keep_alive_names_the_hop_and_the_fix(stacks):
    proxy_client_timeout_below_keep_alive(stacks)
    (problem,) = capacity_of(stacks).problems
    assert problem.startswith("proxy fleet iot:gatekeeper-access-proxy HAProxy timeout client 300 s (rendered "
                              "configuration) is shorter than the 345 s")
    assert "lower capacity.deviceKeepAliveSeconds to at most 200" in problem


def test_a_shorter_device_keep_alive_tolerates_shorter_timeouts(stacks):
    proxy_client_timeout_below_keep_alive(stacks)
    stacks["iot"].config["capacity"] = {"deviceKeepAliveSeconds": 200}
    assert capacity_of(stacks).passed


def test_a_bad_capacity_key_fails_the_check_naming_it(stacks):
    stacks["iot"].config["capacity"] = {"reconnectTargetSecs": 900}
    (problem,) = capacity_of(stacks).problems
    assert problem.startswith("capacity has unknown key(s) reconnectTargetSecs")


def test_failed_check_names_the_resources_involved(stacks):
    drop_tgw_route_to_gatekeeper(stacks)
    result = next(r for r in run_checks(stacks) if r.name == DEVICES_PATH)
    assert "network:channel-tgw" in result.resources
    assert any("sends it to nowhere" in p for p in result.problems)


def test_missing_iot_stack_fails_checks_that_need_it(plan):
    stacks = stacks_of(plan)
    del stacks["iot"]
    assert {DEVICES_PATH, DEVICES_DNS, CONSUMER, CAPACITY} <= failing(run_checks(stacks))


@pytest.mark.parametrize(
    "statement, allowed",
    [
        ({"Effect": "Allow", "Action": "iot:*", "Resource": "*"}, False),
        ({"Effect": "Allow", "NotAction": "iot:Publish", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
          "Condition": {"ForAnyValue:StringEquals": {"aws:SourceVpce": ["vpce-a"]}}}, False),
        ({"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
          "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-a", "vpce-b"]}}}, False),
        ({"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
          "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-a"}}}, True),
        ({"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "*"}, True),
        ({"Effect": "Deny", "Action": "iot:Connect", "Resource": "*"}, True),
    ],
)
def test_connect_problems(statement, allowed):
    problems = connect_problems({"Statement": [statement]}, {"vpce-a"})
    assert (problems == []) is allowed
