"""The plan's checks over the rendered example stacks, each one seen passing and failing.

Every mutation breaks one thing in a deep copy of the rendered plan and names
the checks that must fail: exactly those, and no other.
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
from tests.channelctl.plan.test_plan_support import (
    add,
    example_plan,
    failing,
    remove,
    resource,
    resources_of,
    stacks_of,
)

CONSUMER = f"{CONSUMER_PATH}:consumer"
ASG = "aws:autoscaling/group:Group"


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture()
def stacks(plan):
    return stacks_of(plan)


def _ingress_rule(sg, port):
    return next(r for r in sg.inputs["ingress"] if int(r["fromPort"]) == port)


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
    rule = _ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg"), 8883)
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
    rule = _ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg"), 8883)
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
    rule = _ingress_rule(resource(s, "iot", "gatekeeper-s3-sg"), 443)
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
    _ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg", SG), 8883)["description"] = "iot.data 8883 – devices"


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
    rule = _ingress_rule(sg, 8883)
    rule["cidrBlocks"] = list(rule["cidrBlocks"]) + _many_cidrs(total - now)


def sixty_one_ipv4_ingress_rules(s):
    _ingress_to(s, 61)


def sixty_ipv4_ingress_rules(s):
    _ingress_to(s, 60)


def sixty_one_ipv6_ingress_rules(s):
    rule = _ingress_rule(resource(s, "iot", "gatekeeper-iot-data-sg", SG), 8883)
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
    mutate(stacks)
    results = run_checks(stacks)
    assert failing(results) == expected
    for result in results:
        if not result.passed:
            assert result.problems and result.detail
            assert result.detail.startswith(result.problems[0][:40])


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


def test_deployable_names_each_old_description_and_the_character_ec2_refuses(stacks):
    sg_descriptions_with_apostrophes(stacks)
    result = next(r for r in run_checks(stacks) if r.name == DEPLOYABLE)
    assert len(result.problems) == len(OLD_DESCRIPTIONS)
    for (stack, name), text in OLD_DESCRIPTIONS.items():
        assert any(p.startswith(f"{stack}:{name} (the group)") and text in p and "\"'\"" in p for p in result.problems)


# --------------------------------------------------------------------------- #
# The plan and the policy pack agree: what the pack refuses, isolation refuses
# --------------------------------------------------------------------------- #


def gatekeeper_inline_route_to_nat(s):
    resource(s, "iot", "gatekeeper-rt").inputs["routes"] = [{"cidrBlock": "10.99.0.0/16", "natGatewayId": "nat-0123"}]


def consumer_peered(s):
    add(s, "consumer", "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "consumer-peer", "pcx-0123",
        {"vpcId": resource(s, "consumer", "consumer-vpc").id, "peerVpcId": "vpc-0123456789abcdef0"})


def proxy_template_public_ip_capitalised(s):
    template = resource(s, "iot", "gatekeeper-access-proxy", "aws:ec2/launchTemplate:LaunchTemplate")
    template.inputs["networkInterfaces"][0]["associatePublicIpAddress"] = "True"


def authorizer_invocable_by_anyone(s):
    add(s, "iot", "aws:lambda/permission:Permission", "gatekeeper-authorizer-open", "perm-open",
        {"function": "mqtt-authorizer-iot", "principal": "*", "action": "lambda:InvokeFunction"})


def edge_rest_api(s):
    add(s, "iot", "aws:apigateway/restApi:RestApi", "gatekeeper-api", "api-0123", {"name": "gatekeeper-api"})


# The pack allows, it does not forbid (policies/allowed_types.py): types the channel does not declare,
# from any provider, and public forms of the types it does declare.


def native_internet_gateway(s):
    add(s, "consumer", "aws-native:ec2:InternetGateway", "consumer-igw", "igw-0123", {})


def instance_connect_endpoint(s):
    add(s, "iot", "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint", "gatekeeper-eice", "eice-0123",
        {"subnetId": "subnet-0123456789abcdef0"})


def other_provider(s):
    add(s, "network", "azure-native:network:PublicIPAddress", "channel-pip", "pip-0123", {})


def route_to_network_interface(s):
    add(s, "network", "aws:ec2/route:Route", "channel-route-appliance", "r-0123",
        {"routeTableId": resource(s, "network", "channel-rt").id, "destinationCidrBlock": "10.77.0.0/16",
         "networkInterfaceId": "eni-0123456789abcdef0"})


def data_access_managed_policy(s):
    resource(s, "iot", "gatekeeper-access-proxy-ssm").inputs["policyArn"] = "arn:aws:iam::aws:policy/AWSIoTDataAccess"


def authorizer_permission_without_source(s):
    permission = resource(s, "iot", "gatekeeper-authorizer-invoke")
    del permission.inputs["sourceArn"]
    del permission.inputs["sourceAccount"]


def endpoint_to_execute_api(s):
    add(s, "consumer", "aws:ec2/vpcEndpoint:VpcEndpoint", "consumer-api", "vpce-0123456789abcdef0",
        {"vpcId": resource(s, "consumer", "consumer-rt").inputs["vpcId"], "vpcEndpointType": "Interface",
         "serviceName": "com.amazonaws.us-west-2.execute-api"})


def alarm_topic_open_to_anyone(s):
    policy = resource(s, "iot", "monitoring-alarms-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*"})
    policy.inputs["policy"] = json.dumps(document)


def key_change_target_with_a_role(s):
    # Still the alarm topic (observability holds), but EventBridge would act as a role.
    target = resource(s, "iot", "monitoring-credentials-key-changes", "aws:cloudwatch/eventTarget:EventTarget")
    target.inputs["roleArn"] = "arn:aws:iam::222222222222:role/anything"


def consumer_endpoint_to_a_foreign_service(s):
    add(s, "consumer", "aws:ec2/vpcEndpoint:VpcEndpoint", "consumer-foreign", "vpce-0fedcba9876543210",
        {"vpcId": resource(s, "consumer", "consumer-rt").inputs["vpcId"], "vpcEndpointType": "Interface",
         "serviceName": "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0"})


def app_role_trusts_another_account(s):
    resource(s, "consumer", "consumer-app-role").inputs["assumeRolePolicy"] = json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]})


@pytest.mark.parametrize(
    "mutate, rule",
    [
        (gatekeeper_inline_route_to_nat, "no-internet-path"),
        (native_internet_gateway, "allowed-types-only"),
        (instance_connect_endpoint, "allowed-types-only"),
        (other_provider, "allowed-types-only"),
        (route_to_network_interface, "no-internet-path"),
        (data_access_managed_policy, "managed-policies-allowed"),
        (authorizer_permission_without_source, "no-public-entry-points"),
        (endpoint_to_execute_api, "endpoints-to-listed-services"),
        (app_role_trusts_another_account, "roles-trust-services-only"),
        (alarm_topic_open_to_anyone, "resource-policies-name-principals"),
        (key_change_target_with_a_role, "events-reach-topics-only"),
        (consumer_peered, "no-internet-path"),
        (proxy_template_public_ip_capitalised, "no-public-addresses"),
        (authorizer_invocable_by_anyone, "no-public-entry-points"),
        (edge_rest_api, "no-public-entry-points"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_isolation_refuses_what_the_policy_pack_refuses(stacks, mutate, rule):
    mutate(stacks)
    results = {r.name: r for r in run_checks(stacks)}
    assert {name for name, r in results.items() if not r.passed} == {ISOLATION}
    assert any(f"breaks the policy pack's {rule}: " in p for p in results[ISOLATION].problems), results[ISOLATION].problems


def test_isolation_refuses_an_endpoint_to_an_endpoint_service_the_plan_does_not_build(stacks):
    # The pack lets any vpce-svc name through (it cannot know whose service it is); the plan knows.
    assert isolation_passes(stacks)
    consumer_endpoint_to_a_foreign_service(stacks)
    results = {r.name: r for r in run_checks(stacks)}
    assert {name for name, r in results.items() if not r.passed} == {ISOLATION}
    assert [p for p in results[ISOLATION].problems if "breaks the policy pack" in p] == []
    assert any("vpce-svc-0123456789abcdef0, which no stack of the plan builds" in p for p in results[ISOLATION].problems)


def isolation_passes(stacks):
    return next(r for r in run_checks(stacks) if r.name == ISOLATION).passed
