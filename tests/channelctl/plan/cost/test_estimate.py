"""The estimate against hand arithmetic on small stacks built here (no render): each expected figure
is worked out in the test from the list prices the table cites, not read back from the estimate."""

from __future__ import annotations

import pytest

from channelctl.plan.checks import PlannedStack
from channelctl.plan.cost.estimate import estimate
from channelctl.plan.cost.prices import PriceTableError, load_table
from channelctl.plan.render import RenderedResource, RenderedStack
from components.config.shared import ConfigError
from components.config.usage import load_usage

# List prices of US East (N. Virginia), as the pricing pages give them (sources in prices.json):
ENDPOINT_AZ_HOUR = 0.01  # aws.amazon.com/privatelink/pricing
IOT_PER_MILLION_MINUTES = 0.08  # aws.amazon.com/iot-core/pricing
IOT_PER_MILLION_MESSAGES = 1.00  # first billion a month
HOURS = 730  # the AWS Pricing Calculator's month


def _res(type_: str, name: str, **inputs) -> RenderedResource:
    return RenderedResource(urn=f"urn:{type_}::{name}", type=type_, name=name, id=f"{name}-id", inputs=inputs,
                            state={}, parent="", provider="", dependencies=[])


def _stack(name: str, role: str, resources, config=None, region="us-east-1", exports=None) -> PlannedStack:
    return PlannedStack(name=name, role=role, account_id={"iot": "222222222222"}.get(role, "111111111111"),
                        region=region, config=config or {},
                        rendered=RenderedStack(project="p", stack=name, resources=resources, exports=exports or {},
                                               logs=[]))


def _endpoint(name: str, zones: int, service: str = "com.amazonaws.us-east-1.iot.data") -> RenderedResource:
    return _res("aws:ec2/vpcEndpoint:VpcEndpoint", name, vpcEndpointType="Interface", serviceName=service,
                subnetIds=[f"subnet-{i}" for i in range(zones)])


def _line(cost, stack: str, resource_class: str):
    (line,) = [line for line in cost.stacks[stack].lines if line.resource_class == resource_class]
    return line


def test_one_endpoint_in_two_zones_for_a_month():
    cost = estimate({"consumer": _stack("consumer", "consumer", [_endpoint("ep", 2)])})
    line = _line(cost, "consumer", "interface endpoints")
    # 1 endpoint x 2 zones x 730 h x $0.01 = $14.60
    assert line.quantity == 2 * HOURS
    assert line.monthly == pytest.approx(1 * 2 * HOURS * ENDPOINT_AZ_HOUR) == pytest.approx(14.60)
    assert cost.monthly == pytest.approx(14.60)


def test_a_gateway_endpoint_costs_nothing():
    gateway = _res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway",
                   serviceName="com.amazonaws.us-east-1.s3", subnetIds=[])
    cost = estimate({"consumer": _stack("consumer", "consumer", [gateway, _endpoint("ep", 3)])})
    assert _line(cost, "consumer", "interface endpoints").monthly == pytest.approx(3 * HOURS * ENDPOINT_AZ_HOUR)


def test_1000_devices_connected_all_month():
    iot = _stack("iot", "iot", [], config={"usage": {"connectedDevices": 1000, "messagesPerDevicePerMinute": 0,
                                                     "messagesToDevicesPerDevicePerMinute": 0}})
    cost = estimate({"iot": iot})
    line = _line(cost, "iot", "IoT Core connectivity")
    # 1,000 devices x 730 h x 60 min = 43.8 million minutes x $0.08 per million = $3.504
    assert line.quantity == 1000 * HOURS * 60 == 43_800_000
    assert line.monthly == pytest.approx(43.8 * IOT_PER_MILLION_MINUTES) == pytest.approx(3.504)
    assert _line(cost, "iot", "IoT Core messaging").monthly == 0


def test_messages_are_metered_in_5_kb_steps_and_tiered():
    usage = {"connectedDevices": 1000, "messagesPerDevicePerMinute": 1, "messagesToDevicesPerDevicePerMinute": 0}
    small = estimate({"iot": _stack("iot", "iot", [], config={"usage": usage | {"messageBytes": 5120}})})
    large = estimate({"iot": _stack("iot", "iot", [], config={"usage": usage | {"messageBytes": 5121}})})
    # 1,000 devices x 43,800 min = 43.8 million publishes; 5,121 bytes take two 5 KB steps.
    assert _line(small, "iot", "IoT Core messaging").monthly == pytest.approx(43.8 * IOT_PER_MILLION_MESSAGES)
    assert _line(large, "iot", "IoT Core messaging").monthly == pytest.approx(2 * 43.8 * IOT_PER_MILLION_MESSAGES)
    # 10 million devices at one publish a minute: 438 billion messages, tiers $1.00 / $0.80 / $0.70 per million.
    many = estimate({"iot": _stack("iot", "iot", [], config={"usage": usage | {"connectedDevices": 10_000_000}})})
    expected = 1_000 * 1.00 + 4_000 * 0.80 + (438_000 - 5_000) * 0.70
    assert _line(many, "iot", "IoT Core messaging").monthly == pytest.approx(expected)


def test_a_devices_puback_of_a_qos_1_publish_is_a_metered_message():
    usage = {"connectedDevices": 1000, "messagesPerDevicePerMinute": 0, "messagesToDevicesPerDevicePerMinute": 1}
    qos1 = estimate({"iot": _stack("iot", "iot", [], config={"usage": usage})})
    qos0 = estimate({"iot": _stack("iot", "iot", [], config={"usage": usage | {"messagesToDevicesQos": 0}})})
    # 43.8 million publishes to the devices, each metered coming in from the application and going out
    # to the device; at QoS 1 as many PUBACKs back, each one message.
    assert _line(qos1, "iot", "IoT Core messaging").quantity == 3 * 43_800_000
    assert _line(qos0, "iot", "IoT Core messaging").quantity == 2 * 43_800_000
    assert _line(qos1, "iot", "IoT Core messaging").monthly == pytest.approx(3 * 43.8 * IOT_PER_MILLION_MESSAGES)


def test_a_device_publish_is_metered_again_for_each_subscribed_consumer_and_its_puback():
    usage = {"connectedDevices": 1000, "messagesPerDevicePerMinute": 1, "messagesToDevicesPerDevicePerMinute": 0}
    consumers = [{"name": "a", "accountId": "333333333333"}, {"name": "b", "accountId": "444444444444"}]

    def messages(**extra) -> float:
        config = {"usage": usage | extra, "consumers": consumers}
        return _line(estimate({"iot": _stack("iot", "iot", [], config=config)}), "iot", "IoT Core messaging").quantity

    # 43.8 million device publishes in; by default delivered to both consumers (2 x 43.8 million out)
    # and acknowledged by each at QoS 1 (2 x 43.8 million PUBACKs).
    assert messages() == 5 * 43_800_000
    assert messages(consumerQos=0) == 3 * 43_800_000
    assert messages(deliveriesPerMessage=0) == 43_800_000
    assert messages(deliveriesPerMessage=0.5, consumerQos=0) == 1.5 * 43_800_000


def test_a_consumers_endpoint_carries_its_share_of_the_deliveries():
    usage = {"connectedDevices": 1000, "messagesPerDevicePerMinute": 1, "messagesToDevicesPerDevicePerMinute": 0,
             "messageBytes": 930}
    iot = _stack("iot", "iot", [], config={"usage": usage, "consumers": [{"name": "a"}, {"name": "b"}]})
    endpoint = _endpoint("ep", 2, service="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
    cost = estimate({"iot": iot, "consumer": _stack("consumer", "consumer", [endpoint])})
    # Each of two consumers gets half of 2 x 43.8 million deliveries of 930 + 70 bytes on the wire.
    expected_gb = 43_800_000 * 1000 / 2**30
    assert _line(cost, "consumer", "interface endpoint data").quantity == pytest.approx(expected_gb)
    # Without an iot stack in the plan there is no fleet to take a share of: 10 GB, said so.
    alone = estimate({"consumer": _stack("consumer", "consumer", [endpoint])})
    line = _line(alone, "consumer", "interface endpoint data")
    assert line.quantity == 10 and line.usage == ("usage.consumerGbPerMonth (default 10 GB)",)


def test_each_session_the_authorizer_ends_adds_a_connect_and_a_subscribe():
    usage = {"connectedDevices": 1000, "messagesPerDevicePerMinute": 0, "messagesToDevicesPerDevicePerMinute": 0}
    authorizer = _res("aws:iot/authorizer:Authorizer", "auth")
    daily = estimate({"iot": _stack("iot", "iot", [authorizer], config={"usage": usage})})
    hourly = estimate({"iot": _stack("iot", "iot", [authorizer],
                                     config={"usage": usage, "authorizer": {"disconnectAfterSeconds": 3600}})})
    # Sessions of 86,400 s (the default): 730 h x 3,600 s / 86,400 s = 30.4 a month per device, each
    # a CONNECT and a SUBSCRIBE: 1,000 x 30.42 x 2 = 60,833 messages; hourly sessions 1,000 x 730 x 2.
    assert _line(daily, "iot", "IoT Core messaging").quantity == pytest.approx(1000 * HOURS * 3600 / 86_400 * 2)
    assert _line(hourly, "iot", "IoT Core messaging").quantity == pytest.approx(1000 * HOURS * 2)


def _authorizer_stack(config: dict) -> PlannedStack:
    resources = [_res("aws:iot/authorizer:Authorizer", "auth"),
                 _res("aws:lambda/function:Function", "fn", memorySize=1769, architectures=["arm64"]),
                 _res("aws:dynamodb/table:Table", "credentials")]
    return _stack("iot", "iot", resources, config=config)


DYNAMODB_PER_MILLION_WRITES = 0.625  # aws.amazon.com/dynamodb/pricing/on-demand


def test_a_migrating_familys_devices_write_their_record_at_each_login_and_refresh():
    usage = {"connectedDevices": 1000, "messagesPerDevicePerMinute": 0, "messagesToDevicesPerDevicePerMinute": 0}
    migrating = {"usage": usage, "fleetProvisioning": {"enabled": True, "migratingFamilies": ["meters"]}}
    every = estimate({"iot": _authorizer_stack(migrating)})
    tenth = estimate({"iot": _authorizer_stack(migrating | {"usage": usage | {"migratingDevices": 100}})})
    none = estimate({"iot": _authorizer_stack({"usage": usage})})
    # The authorizer's calls: a refresh every 900 s and a CONNECT every 86,400 s, 730 h a month:
    # 1,000 x (2,628,000 / 900 + 2,628,000 / 86,400) = 2,950,417, one write each.
    calls = 1000 * (HOURS * 3600 / 900 + HOURS * 3600 / 86_400)
    assert _line(every, "iot", "DynamoDB writes").quantity == pytest.approx(calls)
    assert _line(every, "iot", "DynamoDB writes").monthly == pytest.approx(calls / 1e6 * DYNAMODB_PER_MILLION_WRITES)
    assert _line(tenth, "iot", "DynamoDB writes").quantity == pytest.approx(calls / 10)
    assert not [line for line in none.stacks["iot"].lines if line.resource_class == "DynamoDB writes"]


def test_a_qos_the_iot_core_broker_does_not_offer_is_refused():
    with pytest.raises(ConfigError, match=r"usage.messagesToDevicesQos 2 is outside 0–1"):
        load_usage({"messagesToDevicesQos": 2}, "iot")


def test_connected_devices_default_to_expected_devices():
    iot = _stack("iot", "iot", [], config={"expectedDevices": 2000})
    assert _line(estimate({"iot": iot}), "iot", "IoT Core connectivity").quantity == 2000 * HOURS * 60


def test_nlb_capacity_units_from_tls_connections():
    lb = _res("aws:lb/loadBalancer:LoadBalancer", "nlb", loadBalancerType="network")
    listener = _res("aws:lb/listener:Listener", "l", loadBalancerArn="nlb-id", protocol="TLS")
    iot = _stack("iot", "iot", [lb, listener], exports={"deviceAccessMode": "tls-proxy"},
                 config={"usage": {"connectedDevices": 30_000, "messagesPerDevicePerMinute": 0}})
    line = _line(estimate({"iot": iot}), "iot", "NLB capacity units")
    # 30,000 active TLS connections / 3,000 per NLCU = 10 NLCU x 730 h x $0.006 = $43.80
    assert line.monthly == pytest.approx(10 * HOURS * 0.006)
    direct = _stack("iot", "iot", [lb, listener], exports={"deviceAccessMode": "direct"},
                    config={"usage": {"connectedDevices": 30_000, "messagesPerDevicePerMinute": 0}})
    # Devices that go straight to the endpoints put no connection on the NLB.
    assert _line(estimate({"iot": direct}), "iot", "NLB capacity units").monthly < line.monthly / 100


def test_proxies_and_an_unknown_instance_type():
    template = _res("aws:ec2/launchTemplate:LaunchTemplate", "lt", instanceType="t4g.medium")
    group = _res("aws:autoscaling/group:Group", "proxy", minSize=3, desiredCapacity=3, launchTemplate={"id": "lt-id"})
    cost = estimate({"iot": _stack("iot", "iot", [template, group])})
    # 3 x t4g.medium x 730 h x $0.0336 (aws.amazon.com/ec2/pricing/on-demand)
    assert _line(cost, "iot", "EC2 proxies").monthly == pytest.approx(3 * HOURS * 0.0336)
    odd = _res("aws:ec2/instance:Instance", "app", instanceType="x9.huge")
    with pytest.raises(PriceTableError, match=r"no price for instance type x9.huge \(app\).*add ec2.x9.huge"):
        estimate({"consumer": _stack("consumer", "consumer", [odd])})


def test_a_region_the_table_lacks_is_priced_at_the_reference_region_and_says_so():
    table = load_table()
    assert "eu-central-1" not in table.regions
    cost = estimate({"consumer": _stack("consumer", "consumer", [_endpoint("ep", 2)], region="eu-central-1")}, table)
    line = _line(cost, "consumer", "interface endpoints")
    assert line.price.region == "us-east-1" and line.to_json()["priceRegion"] == "us-east-1"
    assert any("eu-central-1" in note and "us-east-1" in note for note in cost.notes)
    own = estimate({"consumer": _stack("consumer", "consumer", [_endpoint("ep", 2)], region="us-west-2")}, table)
    assert _line(own, "consumer", "interface endpoints").price.region == "us-west-2"
    assert not any("us-west-2" in note for note in own.notes)


def test_totals_per_account_add_up_the_stacks_of_each_account():
    cost = estimate({
        "a": _stack("a", "consumer", [_endpoint("ep", 2)]),
        "b": _stack("b", "network", [_endpoint("ep", 1)]),
        "c": _stack("c", "iot", [], config={"usage": {"connectedDevices": 0}}),
    })
    # a and b are both in 111111111111 (the fake network and consumer account).
    assert cost.accounts()["111111111111"] == pytest.approx(3 * HOURS * ENDPOINT_AZ_HOUR)
    assert cost.monthly == pytest.approx(sum(cost.accounts().values()))


def test_direct_connect_port_hours_only_when_the_stack_creates_the_connection():
    vif = _res("aws:directconnect/transitVirtualInterface:TransitVirtualInterface", "vif", connectionId="dxcon-1")
    existing = estimate({"network": _stack("network", "network", [vif])})
    assert not [line for line in existing.lines() if line.resource_class == "Direct Connect port"]
    port = _res("aws:directconnect/connection:Connection", "dx", bandwidth="10Gbps")
    created = estimate({"network": _stack("network", "network", [vif, port])})
    # A dedicated 10 Gbps port: 730 h x $2.25 (aws.amazon.com/directconnect/pricing) = $1,642.50
    assert _line(created, "network", "Direct Connect port").monthly == pytest.approx(HOURS * 2.25)
    odd = _res("aws:directconnect/connection:Connection", "dx", bandwidth="400Gbps")
    with pytest.raises(PriceTableError, match=r"no Direct Connect port price for bandwidth 400Gbps \(dx\)"):
        estimate({"network": _stack("network", "network", [odd])})


def test_the_fleet_drives_the_network_accounts_transit_gateway_and_resolver_lines():
    association = _res("aws:directconnect/gatewayAssociation:GatewayAssociation", "assoc", associatedGatewayId="tgw-1")
    resolver = _res("aws:route53/resolverEndpoint:ResolverEndpoint", "r", ipAddresses=[{"ip": "10.0.0.10"}, {"ip": "10.0.1.10"}])
    network = _stack("network", "network", [association, resolver],
                     config={"usage": {"dnsQueriesPerDevicePerHour": 2}})
    iot = _stack("iot", "iot", [], config={"usage": {"connectedDevices": 1000}})
    cost = estimate({"network": network, "iot": iot})
    # 1 Direct Connect gateway attachment: 730 h x $0.05; 2 ENIs: 2 x 730 h x $0.125;
    # 1,000 devices x 2 queries an hour x 730 h = 1.46 million queries x $0.40 per million.
    assert _line(cost, "network", "Transit Gateway attachments").monthly == pytest.approx(HOURS * 0.05)
    assert _line(cost, "network", "Route 53 Resolver endpoint").monthly == pytest.approx(2 * HOURS * 0.125)
    assert _line(cost, "network", "Route 53 Resolver queries").monthly == pytest.approx(1.46 * 0.40)
    # Devices' traffic in over Direct Connect: 1,000 x 43,800 publishes of 512 + 70 bytes, plus a
    # 70-byte ping every 230 s, in GB of 2**30 bytes, at $0.02 per GB.
    up_gb = (1000 * 43_800 * 582 + 1000 * HOURS * 3600 / 230 * 70) / 2**30
    assert _line(cost, "network", "Transit Gateway data").monthly == pytest.approx(up_gb * 0.02)
