"""The deployable check over the rendered example stacks: what AWS refuses although the provider
accepts it (charsets, lengths, quotas), each rule seen passing and failing.

Every mutation breaks one thing in a deep copy of the rendered plan and names
the checks that must fail: exactly those, and no other.
"""

from __future__ import annotations

import pytest

from channelctl.plan.checks import DEPLOYABLE, ISOLATION, run_checks
from tests.channelctl.plan.checks_support import (  # noqa: F401 (fixtures)
    ASG,
    assert_break_fails_exactly,
    ingress_rule,
    plan,
    stacks,
)
from tests.channelctl.plan.test_plan_support import add, resource, resources_of


# --- deployable: what AWS refuses although the provider accepts it ----------

SG = "aws:ec2/securityGroup:SecurityGroup"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
T_LAMBDA = "aws:lambda/function:Function"
T_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
T_SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

# The security-group descriptions the program declared before they were fixed:
# EC2 refuses the apostrophe, the provider does not.
OLD_DESCRIPTIONS = {
    ("iot", "gatekeeper-nlb-sg"):
        "Gatekeeper NLB: MQTT ports in from the channel's ranges, out to the iot.data endpoints",
    ("iot", "gatekeeper-authorizer-sg"):
        "Custom authorizer: no inbound; HTTPS out to DynamoDB's gateway endpoint only",
    ("consumer", "consumer-app-sg"):
        "Application host: no inbound; MQTT and HTTPS out to this VPC's endpoints only",
}


def sg_descriptions_with_apostrophes(s):
    for (stack, name), text in OLD_DESCRIPTIONS.items():
        resource(s, stack, name, SG).inputs["description"] = text


def sg_description_too_long(s):
    resource(s, "iot", "gatekeeper-iot-data-sg", SG).inputs["description"] = "x" * 256


def sg_rule_description_with_non_ascii(s):
    ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg", SG), 8883)["description"] = "iot.data 8883 – devices"


def separate_rule_description_with_quote(s):
    sg = resource(s, "iot", "gatekeeper-nlb-sg", SG)
    add(s, "iot", T_SG_IN, "gatekeeper-extra-in", "sgr-extra",
        {"securityGroupId": sg.id, "ipProtocol": "tcp", "fromPort": 8883.0, "toPort": 8883.0,
         "cidrIpv4": "192.168.0.0/16", "description": 'devices "plant 1"'})


def target_group_auto_named_too_long(s):
    del resource(s, "iot", "gatekeeper-access-family1", TG).inputs["name"]


def target_group_name_ends_with_hyphen(s):
    resource(s, "iot", "gatekeeper-access-family1", TG).inputs["name"] = "family1-8080-"


def nlb_named_internal(s):
    resource(s, "iot", "gatekeeper-nlb").inputs["name"] = "internal-mqtt"


def nlb_name_prefix_too_long(s):
    # The provider appends 26 characters to a namePrefix.
    resource(s, "iot", "gatekeeper-nlb").inputs["namePrefix"] = "mqtt-gk"


def lambda_name_too_long(s):
    resource(s, "iot", "gatekeeper-authorizer-function", T_LAMBDA).inputs["name"] = "a" * 65


def lambda_name_with_a_dot(s):
    resource(s, "iot", "gatekeeper-authorizer-function", T_LAMBDA).inputs["name"] = "mqtt-authorizer-iot.prod"


def role_name_prefix_too_long(s):
    resource(s, "iot", "gatekeeper-authorizer-role").inputs["namePrefix"] = "r" * 39


def role_path_without_trailing_slash(s):
    resource(s, "iot", "gatekeeper-authorizer-role").inputs["path"] = "/mqtt"


def log_group_name_with_space(s):
    resource(s, "iot", "gatekeeper-authorizer-logs").inputs["name"] = "/aws/lambda/mqtt authorizer"


def domain_configuration_name_with_slash(s):
    resource(s, "iot", "gatekeeper-authorizer-domain").inputs["name"] = "mqtt/iot-plant-example-com"


def authorizer_name_too_long(s):
    resource(s, "iot", "gatekeeper-authorizer-authorizer").inputs["name"] = "a" * 129


def _many_cidrs(n, v6=False):
    return [f"fd00::{i:x}/128" for i in range(n)] if v6 else [f"10.99.{i // 250}.{i % 250}/32" for i in range(n)]


def _ingress_to(s, total):
    """Add /32s to the iot.data group's 8883 rule until the group has ``total`` IPv4 ingress rules (one per CIDR)."""
    sg = resource(s, "iot", "gatekeeper-iot-data-sg", SG)
    now = sum(len(r.get("cidrBlocks") or []) for r in sg.inputs["ingress"])
    assert not any(r.get("securityGroups") or r.get("prefixListIds") for r in sg.inputs["ingress"])
    rule = ingress_rule(sg, 8883)
    rule["cidrBlocks"] = list(rule["cidrBlocks"]) + _many_cidrs(total - now)


def sixty_one_ipv4_ingress_rules(s):
    _ingress_to(s, 61)


def sixty_ipv4_ingress_rules(s):
    _ingress_to(s, 60)


def sixty_one_ipv6_ingress_rules(s):
    rule = ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg", SG), 8883)
    rule["ipv6CidrBlocks"] = _many_cidrs(61, v6=True)


def separate_rules_push_egress_past_sixty(s):
    # Inline egress rules (one per CIDR or referenced group), then separate rules up to 61.
    sg = resource(s, "iot", "gatekeeper-nlb-sg", SG)
    now = sum(len(r.get("cidrBlocks") or []) + len(r.get("securityGroups") or []) + len(r.get("prefixListIds") or [])
              for r in sg.inputs["egress"])
    for i, cidr in enumerate(_many_cidrs(61 - now)):
        add(s, "iot", "aws:ec2/securityGroupRule:SecurityGroupRule", f"gatekeeper-nlb-out-{i}", f"sgr-out-{i}",
            {"securityGroupId": sg.id, "type": "egress", "protocol": "tcp", "fromPort": 9000.0, "toPort": 9000.0,
             "cidrBlocks": [cidr]})


def _add_interface_endpoints(s, n, type_="Interface"):
    vpc = resource(s, "iot", "gatekeeper-vpc").id
    for i in range(n):
        # To services the channel reaches (policies/allowed_types.py ENDPOINT_SERVICES): isolation refuses any other.
        add(s, "iot", T_ENDPOINT, f"gatekeeper-extra-{i}", f"vpce-extra{i:04d}",
            {"vpcId": vpc, "serviceName": "com.amazonaws.us-west-2.ssm", "vpcEndpointType": type_})


def _interface_endpoints_to(s, total):
    vpc = resource(s, "iot", "gatekeeper-vpc").id
    now = sum(1 for e in resources_of(s, "iot", T_ENDPOINT)
              if e.inputs.get("vpcId") == vpc and e.inputs.get("vpcEndpointType") == "Interface")
    _add_interface_endpoints(s, total - now)


def fifty_one_interface_endpoints(s):
    _interface_endpoints_to(s, 51)


def fifty_interface_endpoints(s):
    _interface_endpoints_to(s, 50)


def many_gateway_endpoints(s):
    _add_interface_endpoints(s, 60, "Gateway")


def fifty_one_listeners(s):
    # More listeners on the gatekeeper NLB, each forwarding to the 8883 group, so no path of the channel changes.
    nlb = resource(s, "iot", "gatekeeper-nlb")
    group = resource(s, "iot", "gatekeeper-tg-8883", TG).state["arn"]
    now = sum(1 for l in resources_of(s, "iot", LISTENER) if l.inputs.get("loadBalancerArn") == nlb.state["arn"])
    for i in range(51 - now):
        add(s, "iot", LISTENER, f"gatekeeper-extra-listener-{i}", f"listener-{i}",
            {"loadBalancerArn": nlb.state["arn"], "port": float(20_000 + i), "protocol": "TCP",
             "defaultActions": [{"type": "forward", "targetGroupArn": group}]})


def forward_to_two_target_groups(s):
    listener = resource(s, "iot", "gatekeeper-access-family1-listener")
    other = resource(s, "iot", "gatekeeper-access-family2", TG).state["arn"]
    action = listener.inputs["defaultActions"][0]
    action["forward"] = {"targetGroups": [{"arn": action["targetGroupArn"]}, {"arn": other}]}


def proxy_fleet_max_past_targets_per_cross_zone_nlb(s):
    # 2 family target groups x 250 instances + 8 endpoint registrations = 508 > 500 with cross-zone on.
    resource(s, "iot", "gatekeeper-access-proxy", ASG).inputs["maxSize"] = 250.0


def proxy_fleet_max_at_targets_per_cross_zone_nlb(s):
    resource(s, "iot", "gatekeeper-access-proxy", ASG).inputs["maxSize"] = 246.0


def proxy_fleet_max_250_without_cross_zone(s):
    # Without cross-zone the NLB takes 500 per zone and 3,000 in all: 254 per zone fits.
    proxy_fleet_max_past_targets_per_cross_zone_nlb(s)
    resource(s, "iot", "gatekeeper-nlb").inputs["enableCrossZoneLoadBalancing"] = False


def proxy_fleet_max_past_targets_per_group(s):
    resource(s, "iot", "gatekeeper-access-proxy", ASG).inputs["maxSize"] = 1_001.0
    resource(s, "iot", "gatekeeper-nlb").inputs["enableCrossZoneLoadBalancing"] = False


def reserved_concurrency_leaves_99(s):
    resource(s, "iot", "gatekeeper-authorizer-function", T_LAMBDA).inputs["reservedConcurrentExecutions"] = 901.0


def reserved_concurrency_leaves_100(s):
    resource(s, "iot", "gatekeeper-authorizer-function", T_LAMBDA).inputs["reservedConcurrentExecutions"] = 900.0


def account_quota_of_ten(s):
    s["iot"].rendered.quotas["lambda/L-B99A9384"] = 10.0


def reservation_without_reading_the_quota(s):
    s["iot"].rendered.quotas.clear()


MUTATIONS = [
    (sg_descriptions_with_apostrophes, {DEPLOYABLE}),
    (sg_description_too_long, {DEPLOYABLE}),
    (sg_rule_description_with_non_ascii, {DEPLOYABLE}),
    # Separate rule resources are not among the types the channel declares (policies/allowed_types.py):
    # isolation refuses them as the policy pack does.
    (separate_rule_description_with_quote, {DEPLOYABLE, ISOLATION}),
    (target_group_auto_named_too_long, {DEPLOYABLE}),
    (target_group_name_ends_with_hyphen, {DEPLOYABLE}),
    (nlb_named_internal, {DEPLOYABLE}),
    (nlb_name_prefix_too_long, {DEPLOYABLE}),
    (lambda_name_too_long, {DEPLOYABLE}),
    (lambda_name_with_a_dot, {DEPLOYABLE}),
    (role_name_prefix_too_long, {DEPLOYABLE}),
    (role_path_without_trailing_slash, {DEPLOYABLE}),
    (log_group_name_with_space, {DEPLOYABLE}),
    (domain_configuration_name_with_slash, {DEPLOYABLE}),
    (authorizer_name_too_long, {DEPLOYABLE}),
    (sixty_one_ipv4_ingress_rules, {DEPLOYABLE}),
    (sixty_ipv4_ingress_rules, set()),
    (sixty_one_ipv6_ingress_rules, {DEPLOYABLE}),
    (separate_rules_push_egress_past_sixty, {DEPLOYABLE, ISOLATION}),
    (fifty_one_interface_endpoints, {DEPLOYABLE}),
    (fifty_interface_endpoints, set()),
    (many_gateway_endpoints, set()),
    (fifty_one_listeners, {DEPLOYABLE}),
    (forward_to_two_target_groups, {DEPLOYABLE}),
    (proxy_fleet_max_past_targets_per_cross_zone_nlb, {DEPLOYABLE}),
    (proxy_fleet_max_at_targets_per_cross_zone_nlb, set()),
    (proxy_fleet_max_250_without_cross_zone, set()),
    (proxy_fleet_max_past_targets_per_group, {DEPLOYABLE}),
    (reserved_concurrency_leaves_99, {DEPLOYABLE}),
    (reserved_concurrency_leaves_100, set()),
    (account_quota_of_ten, {DEPLOYABLE}),
    (reservation_without_reading_the_quota, {DEPLOYABLE}),
]


@pytest.mark.parametrize("mutate, expected", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_each_break_fails_exactly_its_checks(stacks, mutate, expected):
    assert_break_fails_exactly(stacks, mutate, expected)


def test_deployable_names_each_old_description_and_the_character_ec2_refuses(stacks):
    sg_descriptions_with_apostrophes(stacks)
    result = next(r for r in run_checks(stacks) if r.name == DEPLOYABLE)
    assert len(result.problems) == len(OLD_DESCRIPTIONS)
    for (stack, name), text in OLD_DESCRIPTIONS.items():
        assert any(p.startswith(f"{stack}:{name} (the group)") and text in p and "\"'\"" in p for p in result.problems)
