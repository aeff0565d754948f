"""Helpers (no tests here) for the ``channelctl verify`` tests: moto accounts seeded from the plan's
renders, botocore Stubbers for the calls moto lacks, and a record of every call verify sends.

moto (in-process ``mock_aws``) plays the accounts: STS AssumeRole lands in the role's account, so
each stack's account is a moto account of its own. Calls moto does not implement are answered by a
Stubber: one ``before-call`` hook on the base session verify starts from sees every call any of its
clients sends (it records the operation name), and hands the routed ones to a stubbed client of the
same service, which checks them against botocore's service model and answers them in order.
"""

from __future__ import annotations

import copy
import os
from contextlib import contextmanager
from typing import Any, Iterator

import boto3
import botocore
import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from channelctl.plan.checks import Channel
from channelctl.plan.checks.deployable import T_IOT_DOMAIN
from channelctl.plan.checks.model import (
    T_ENDPOINT,
    T_ENDPOINT_SERVICE,
    T_INSTANCE,
    T_LB,
    T_RECORD,
    T_RESOLVER,
    T_SG,
    T_SUBNET,
    T_TGW,
    T_TGW_ACCEPTER,
    T_TGW_ATTACHMENT,
    T_VPC,
    T_ZONE,
    T_ZONE_ASSOC,
    T_ZONE_AUTH,
)
from channelctl.plan.checks.observability import T_SUBSCRIPTION, T_TOPIC

REGION = "us-west-2"
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION}
# What moto does not implement, answered by Stubbers.
ROUTED = {
    ("ec2", "DescribeVpcEndpointConnections"),
    ("ec2", "CreateNetworkInsightsPath"), ("ec2", "StartNetworkInsightsAnalysis"),
    ("ec2", "DescribeNetworkInsightsAnalyses"), ("ec2", "DeleteNetworkInsightsAnalysis"),
    ("ec2", "DeleteNetworkInsightsPath"),
    ("iot", "DescribeAuthorizer"), ("iot", "TestInvokeAuthorizer"),
}
# A stand-in for another account's VPC associated with the iot stack's zones (the device VPC).
FOREIGN_VPC = "vpc-0d0e1f2a3b4c5d6e7"


# botocore reads a service's API model (megabytes of JSON for ec2) once per session; the tests make
# many sessions, so they share one loader and read each model once.
_LOADER = botocore.loaders.create_loader()


def new_session(**kwargs: Any) -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, **kwargs)


@contextmanager
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto started before any client exists, with fake credentials and nothing from the caller's profile."""
    from moto import mock_aws

    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key, raising=False)
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    # moto would make thousands of public AMIs for every account it starts (2 s each); none is needed.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield


class Calls:
    """Every (service, operation) verify sends through ``session``, and the Stubbers that answer routed ones."""

    def __init__(self, session: boto3.Session):
        self.session = session
        self.operations: list[tuple[str, str]] = []
        self.params: list[tuple[str, str, dict[str, Any]]] = []
        self.stubbers: dict[str, tuple[Any, Stubber]] = {}
        session.events.register("before-parameter-build", self._capture)
        session.events.register("before-call", self._before_call)

    def stub(self, service: str) -> Stubber:
        """The Stubber answering ``service``'s routed calls (a client of its own session, so unrecorded)."""
        if service not in self.stubbers:
            client = new_session(region_name=REGION, aws_access_key_id="stub",
                                 aws_secret_access_key="stub").client(service)
            stubber = Stubber(client)
            stubber.activate()
            self.stubbers[service] = (client, stubber)
        return self.stubbers[service][1]

    def _capture(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["verify-test-params"] = copy.deepcopy(params)

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        service = model.service_model.service_name
        params = context.get("verify-test-params", {})
        self.operations.append((service, model.name))
        self.params.append((service, model.name, params))
        if (service, model.name) not in ROUTED:
            return None
        client, _stubber = self.stubbers[service]
        parsed = getattr(client, botocore.xform_name(model.name))(**params)
        return AWSResponse("https://stubbed.invalid", 200, {}, None), parsed

    def called(self, operation: str) -> list[dict[str, Any]]:
        return [p for _, op, p in self.params if op == operation]

    def assert_all_answered(self) -> None:
        for _client, stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def account_clients(account_id: str) -> dict[str, Any]:
    """Clients of one moto account (reached as verify reaches it: AssumeRole into it), for seeding."""
    sts = new_session(region_name=REGION).client("sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/seed", RoleSessionName="seed")["Credentials"]
    session = new_session(region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    return {s: session.client(s) for s in ("ec2", "elbv2", "route53", "route53resolver", "iot", "sns")}


def _tags(stack, res, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    from channelctl.accounts.verify_aws import provider_settings

    tags = dict(provider_settings(stack).default_tags) | dict(res.r.inputs.get("tags") or {}) | dict(extra or {})
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class Seeded:
    """One stack's account seeded from its render: mock ID -> real ID, and the clients."""

    def __init__(self, plan, stack_name: str):
        self.plan = plan
        self.stack = plan.stacks[stack_name]
        self.channel = Channel(plan.stacks)
        self.c = account_clients(self.stack.account_id)
        self.ids: dict[str, str] = {}
        self.real: dict[str, dict[str, Any]] = {}

    def of(self, token: str):
        return self.channel.of_type(token, self.stack)

    def named(self, name: str, token: str | None = None):
        return next(r for r in self.stack.rendered.resources if r.name == name and (token is None or r.type == token))


def seed(plan, stack_name: str, *, service_names: dict[str, str] | None = None,
         associate_foreign: bool = True) -> Seeded:
    """Create in the stack's moto account what the plan declares and verify reads, as a release leaves it."""
    s = Seeded(plan, stack_name)
    ec2, stack = s.c["ec2"], s.stack
    for res in s.of(T_VPC):
        vpc = ec2.create_vpc(CidrBlock=res.get("cidrBlock"))["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=_tags(stack, res))
        s.ids[res.id] = vpc
    for res in s.of(T_SUBNET):
        s.ids[res.id] = ec2.create_subnet(VpcId=s.ids[res.get("vpcId")], CidrBlock=res.get("cidrBlock"),
                                          AvailabilityZone=res.get("availabilityZone"))["Subnet"]["SubnetId"]
    for res in s.of(T_SG):
        s.ids[res.id] = ec2.create_security_group(GroupName=res.r.name, Description="seed",
                                                  VpcId=s.ids[res.get("vpcId")])["GroupId"]
    _seed_network_parts(s)
    _seed_load_balancers(s)
    _seed_endpoints(s, service_names or {})
    _seed_zones(s, associate_foreign)
    _seed_iot_parts(s)
    return s


def _seed_network_parts(s: Seeded) -> None:
    ec2, stack = s.c["ec2"], s.stack
    for res in s.of(T_TGW):
        tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
        ec2.create_tags(Resources=[tgw], Tags=_tags(stack, res))
        s.ids[res.id] = tgw
    for res in s.of(T_TGW_ATTACHMENT):
        # The iot account's attachment is to the network account's (shared) TGW; moto wants one of its own.
        tgw = s.ids.get(res.get("transitGatewayId")) or ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=s.ids[res.get("vpcId")],
            SubnetIds=[s.ids[x] for x in res.get("subnetIds")])["TransitGatewayVpcAttachment"]
        ec2.create_tags(Resources=[attachment["TransitGatewayAttachmentId"]], Tags=_tags(stack, res))
        s.ids[res.id] = attachment["TransitGatewayAttachmentId"]
    for res in s.of(T_TGW_ACCEPTER):
        # Another account's attachment on this TGW: a stand-in VPC here, its owner set to the attaching account.
        planned = s.channel.by_id(res.get("transitGatewayAttachmentId"))
        vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.0.0/24")["Subnet"]["SubnetId"]
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=s.ids[planned.get("transitGatewayId")], VpcId=vpc, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        ec2_backend(stack.account_id).transit_gateway_attachments[attachment].resource_owner_id = planned.stack.account_id
        s.ids[res.id] = attachment
    for res in s.of(T_RESOLVER):
        s.c["route53resolver"].create_resolver_endpoint(
            CreatorRequestId=res.r.name, Name=res.get("name"), Direction=res.get("direction"),
            SecurityGroupIds=[s.ids[g] for g in res.get("securityGroupIds")],
            IpAddresses=[{"SubnetId": s.ids[a["subnetId"]], "Ip": a["ip"]} for a in res.get("ipAddresses")])
    for res in s.of(T_ZONE_ASSOC):
        # The iot account's zones as the VPC owner's ListHostedZonesByVPC lists them: moto lists its own.
        zone = s.channel.by_id(res.get("zoneId"))
        s.c["route53"].create_hosted_zone(
            Name=zone.get("name"), CallerReference=res.r.name, HostedZoneConfig={"PrivateZone": True},
            VPC={"VPCRegion": REGION, "VPCId": s.ids[res.get("vpcId")]})
    for res in s.of(T_INSTANCE):
        instance = ec2.run_instances(ImageId=res.get("ami"), MinCount=1, MaxCount=1, SubnetId=s.ids[res.get("subnetId")],
                                     TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(stack, res)}])
        s.ids[res.id] = instance["Instances"][0]["InstanceId"]


def _seed_load_balancers(s: Seeded) -> None:
    ec2 = s.c["ec2"]
    for res in s.of(T_LB):
        mappings = [{"SubnetId": s.ids[m["subnetId"]], "PrivateIPv4Address": m["privateIpv4Address"]}
                    for m in res.get("subnetMappings") or []]
        balancer = s.c["elbv2"].create_load_balancer(
            Name=f"{res.r.name}-a1b2c3d"[:32], Type="network", Scheme="internal", SubnetMappings=mappings,
            Tags=_tags(s.stack, res))["LoadBalancers"][0]
        s.real[res.id] = balancer
        suffix = balancer["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
        for m in mappings:  # AWS describes an NLB's interfaces "ELB <arn suffix>"
            ec2.create_network_interface(SubnetId=m["SubnetId"], PrivateIpAddress=m["PrivateIPv4Address"],
                                         Description=f"ELB {suffix}")
    for res in s.of(T_ENDPOINT_SERVICE):
        arns = [s.real[s.channel.by_arn(a).id]["LoadBalancerArn"] for a in res.get("networkLoadBalancerArns")]
        service = ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=arns, AcceptanceRequired=bool(res.get("acceptanceRequired")),
            TagSpecifications=[{"ResourceType": "vpc-endpoint-service", "Tags": _tags(s.stack, res)}],
        )["ServiceConfiguration"]
        s.ids[res.id] = service["ServiceId"]
        s.real[res.id] = service


def _seed_endpoints(s: Seeded, service_names: dict[str, str]) -> None:
    ec2 = s.c["ec2"]
    for res in s.of(T_ENDPOINT):
        interface = str(res.get("vpcEndpointType")).lower() == "interface"
        kwargs: dict[str, Any] = {"VpcId": s.ids[res.get("vpcId")], "VpcEndpointType": res.get("vpcEndpointType"),
                                  "ServiceName": service_names.get(res.get("serviceName"), res.get("serviceName"))}
        if interface:
            kwargs["SubnetIds"] = [s.ids[x] for x in res.get("subnetIds")]
        if (res.r.inputs.get("tags") or {}).get("Name"):
            kwargs["TagSpecifications"] = [{"ResourceType": "vpc-endpoint", "Tags": _tags(s.stack, res)}]
        endpoint = ec2.create_vpc_endpoint(**kwargs)["VpcEndpoint"]
        s.ids[res.id] = endpoint["VpcEndpointId"]
        s.real[res.id] = endpoint
        by_subnet = {s.ids[c["subnetId"]]: c["ipv4"] for c in res.get("subnetConfigurations") or []}
        for eni_id in endpoint.get("NetworkInterfaceIds") or []:
            eni = ec2_backend(s.stack.account_id).enis[eni_id]
            if eni.subnet.id in by_subnet:  # the fixed addresses subnet_configurations gives (moto draws its own)
                set_eni_ip(s.stack.account_id, eni_id, by_subnet[eni.subnet.id])


def _seed_zones(s: Seeded, associate_foreign: bool) -> None:
    r53 = s.c["route53"]
    for res in s.of(T_ZONE):
        vpcs = res.get("vpcs") or []
        zone = r53.create_hosted_zone(
            Name=res.get("name"), CallerReference=res.r.name, HostedZoneConfig={"PrivateZone": True},
            VPC={"VPCRegion": REGION, "VPCId": s.ids[vpcs[0]["vpcId"]]})["HostedZone"]["Id"]
        s.ids[res.id] = zone
        if associate_foreign and any(a.get("zoneId") == res.id for a in s.of(T_ZONE_AUTH)):
            r53.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC={"VPCRegion": REGION, "VPCId": FOREIGN_VPC})
    for res in s.of(T_RECORD):
        record: dict[str, Any] = {"Name": res.get("name"), "Type": res.get("type")}
        if res.get("aliases"):
            target = next(e for e in s.of(T_ENDPOINT)
                          if res.get("aliases")[0]["name"] in {d["dnsName"] for d in e.get("dnsEntries") or []})
            entry = s.real[target.id]["DnsEntries"][0]
            record["AliasTarget"] = {"HostedZoneId": entry["HostedZoneId"], "DNSName": entry["DnsName"],
                                     "EvaluateTargetHealth": True}
        else:
            record |= {"TTL": int(res.get("ttl")), "ResourceRecords": [{"Value": v} for v in res.get("records")]}
            if res.get("setIdentifier"):
                record |= {"SetIdentifier": res.get("setIdentifier"),
                           "Weight": int(res.get("weightedRoutingPolicies")[0]["weight"])}
        r53.change_resource_record_sets(HostedZoneId=s.ids[res.get("zoneId")], ChangeBatch={
            "Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]})


def _seed_iot_parts(s: Seeded) -> None:
    for res in s.of(T_IOT_DOMAIN):
        s.c["iot"].create_domain_configuration(
            domainConfigurationName=res.get("name"), domainName=res.get("domainName"),
            serverCertificateArns=res.get("serverCertificateArns"), authorizerConfig=res.get("authorizerConfig"),
            serviceType=res.get("serviceType"))
    for res in s.of(T_TOPIC):
        topic = s.c["sns"].create_topic(Name=f"{res.r.name}-a1b2c3d", Tags=_tags(s.stack, res))["TopicArn"]
        s.ids[res.id] = topic
        for sub in s.of(T_SUBSCRIPTION):
            if sub.get("topic") == res.get("arn"):
                s.c["sns"].subscribe(TopicArn=topic, Protocol=sub.get("protocol"), Endpoint=sub.get("endpoint"))


# -- moto's own models, to play states its API cannot reach ---------------------------------------

def ec2_backend(account_id: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][REGION]


def set_eni_ip(account_id: str, eni_id: str, ip: str) -> None:
    eni = ec2_backend(account_id).enis[eni_id]
    eni.private_ip_address = ip
    eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]


def pending_subscriptions(account_id: str) -> None:
    from moto.sns.models import sns_backends

    for sub in sns_backends[account_id][REGION].subscriptions.values():
        sub.arn = "PendingConfirmation"


# -- Stubbed answers, shaped as botocore's service models say -------------------------------------

def stub_connections(calls: Calls, service_id: str, owners: dict[str, str]) -> None:
    """DescribeVpcEndpointConnections of ``service_id``: account -> state."""
    calls.stub("ec2").add_response("describe_vpc_endpoint_connections", {"VpcEndpointConnections": [
        {"ServiceId": service_id, "VpcEndpointId": f"vpce-0{n:016x}", "VpcEndpointOwner": account,
         "VpcEndpointState": state} for n, (account, state) in enumerate(owners.items(), 1)
    ]}, {"Filters": [{"Name": "service-id", "Values": [service_id]}]})


def stub_authorizer(calls: Calls, plan, status: str = "ACTIVE") -> None:
    res = next(r for r in plan.stacks["iot"].rendered.resources if r.type == "aws:iot/authorizer:Authorizer")
    calls.stub("iot").add_response("describe_authorizer", {"authorizerDescription": {
        "authorizerName": res.inputs["name"], "authorizerFunctionArn": res.inputs["authorizerFunctionArn"],
        "status": status, "signingDisabled": True,
    }}, {"authorizerName": res.inputs["name"]})
