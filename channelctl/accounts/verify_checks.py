"""``channelctl verify``'s ``resources`` check: the planned resources exist and are in their working state.

It only reads. What it reads, per planned resource type of the stack: VPCs (DescribeVpcs),
VPC endpoints and their addresses (DescribeVpcEndpoints, DescribeNetworkInterfaces), Transit Gateways
and attachments (DescribeTransitGateways, DescribeTransitGatewayVpcAttachments,
DescribeTransitGatewayAttachments), the endpoint service and its consumers' connections
(DescribeVpcEndpointServiceConfigurations, DescribeVpcEndpointConnections), private hosted zones and
their VPCs (ListHostedZonesByName, GetHostedZone, ListHostedZonesByVPC), the Resolver inbound
endpoint (ListResolverEndpoints, ListResolverEndpointIpAddresses), instances (DescribeInstances), the
IoT domain configuration and authorizer (DescribeDomainConfiguration, DescribeAuthorizer) and the
alarm topic's subscriptions (ListTopics, ListSubscriptionsByTopic). Other planned resources (security
groups, routes, roles, alarms, ...) are not read: ``pulumi preview`` shows their drift.
"""

from __future__ import annotations

from typing import Any, Callable

from channelctl.accounts.verify_aws import RESOURCES, CallFailed, Target, joined, name_tag
from channelctl.plan.checks import CheckResult, Res, endpoint_ips
from channelctl.plan.checks.deployable import T_IOT_DOMAIN
from channelctl.plan.checks.model import (
    T_CONNECTION_ACCEPTER,
    T_ENDPOINT,
    T_ENDPOINT_SERVICE,
    T_INSTANCE,
    T_IOT_AUTHORIZER,
    T_RESOLVER,
    T_TGW,
    T_TGW_ACCEPTER,
    T_TGW_ATTACHMENT,
    T_VPC,
    T_ZONE,
    T_ZONE_ASSOC,
    T_ZONE_AUTH,
    Findings,
)
from channelctl.plan.checks.observability import T_SUBSCRIPTION, T_TOPIC


def _missing(t: Target, res: Res, what: str) -> str:
    tags = ", ".join(f"{k}={v}" for k, v in t.account.settings.default_tags.items() if k in ("project", "stack"))
    name = name_tag(res)
    found_by = f"tagged Name={name}" + (f", {tags}" if tags else "") if name else what
    return (f"{res.label}: not found in account {t.account.account_id} {t.account.region} ({found_by}) — "
            f"{t.up()} creates it")


# -- resources -------------------------------------------------------------------------------------

def check_resources(t: Target) -> CheckResult:
    f = Findings()
    readers: tuple[tuple[str, Callable[[Target, Findings], int]], ...] = (
        ("VPCs", _vpcs), ("VPC endpoints", _endpoints), ("Transit Gateways", _transit_gateways),
        ("Transit Gateway attachments", _attachments), ("accepted attachments", _accepted_attachments),
        ("endpoint services and connections", _endpoint_services), ("private zones", _zones),
        ("zone associations", _zone_associations), ("Resolver endpoints", _resolvers), ("instances", _instances),
        ("IoT domain configurations", _domain_configurations), ("IoT authorizers", _authorizers),
        ("alarm subscriptions", _subscriptions),
    )
    counts = []
    for what, read in readers:
        try:
            n = read(t, f)
        except CallFailed as exc:
            f.bad(f"cannot read {what}: {exc} — grant the stack's role that read, then run verify again")
            continue
        if n:
            counts.append(f"{what} {n}")
    summary = (f"what verify reads of stack {t.stack.name} is in account {t.account.account_id} {t.account.region}, "
               f"in its working state: {', '.join(counts) or 'nothing read'}")
    return f.result(RESOURCES, summary)


def _vpcs(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_VPC):
        vpc = t.vpc(res.id)
        if vpc is None:
            f.bad(_missing(t, res, "VPC"), res.label)
        elif vpc.get("State") != "available" or vpc.get("CidrBlock") != res.get("cidrBlock"):
            f.bad(f"{res.label}: {vpc['VpcId']} is {vpc.get('State')} with {vpc.get('CidrBlock')}, the plan "
                  f"{res.get('cidrBlock')} — a VPC's CIDR cannot change: `pulumi preview` on stack "
                  f"{t.stack.name} shows the drift", res.label)
        else:
            n += 1
            f.ok(f"{res.label}: {vpc['VpcId']} available, {vpc['CidrBlock']}", res.label)
    return n


_ENDPOINT_STATE_FIX = {
    "pending": "AWS is still creating it: run verify again in a few minutes",
    "pendingacceptance": "the endpoint service's owner accepts it",
    "rejected": "the endpoint service's owner rejected it: check the iot stack's consumers entry for this account, "
                "then re-create it",
}


def _endpoints(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_ENDPOINT):
        endpoint = t.endpoint(res)
        if endpoint is None:
            f.bad(_missing(t, res, f"{res.get('serviceName')} endpoint in its VPC"), res.label)
            continue
        eid, state = endpoint["VpcEndpointId"], str(endpoint.get("State", ""))
        problems = []
        if state.lower() != "available":
            fix = _ENDPOINT_STATE_FIX.get(state.lower(), f"{t.up()} re-creates it (`pulumi refresh` first)")
            if state.lower() == "pendingacceptance":
                fix += f": {t.up('iot', 5)} with this consumer's stack set in consumers"
            problems.append(f"{res.label}: {eid} is {state}, not available — {fix}")
        planned = endpoint_ips(res)
        if planned:
            got = t.eni_ips(endpoint.get("NetworkInterfaceIds") or []).values()
            if sorted(got) != sorted(planned):
                problems.append(f"{res.label}: {eid} has addresses {joined(got)}, the plan fixes {joined(planned)} — "
                                f"`pulumi preview` on stack {t.stack.name} shows the drift; {t.up()} replaces the "
                                "endpoint with the planned addresses")
        for problem in problems:
            f.bad(problem, res.label)
        if not problems:
            n += 1
            f.ok(f"{res.label}: {eid} available" + (f" at {joined(planned)}" if planned else ""), res.label)
    return n


def _transit_gateways(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_TGW):
        name = name_tag(res)
        found = [g for g in t.account.pages("ec2", "DescribeTransitGateways", "TransitGateways")
                 if t.owned(g, name) and g.get("State") != "deleted"]
        if len(found) != 1:
            f.bad(_missing(t, res, "Transit Gateway"), res.label)
        elif found[0].get("State") != "available":
            f.bad(f"{res.label}: {found[0]['TransitGatewayId']} is {found[0].get('State')} — run verify again once "
                  "it is available", res.label)
        else:
            n += 1
            t.cache[("tgw", res.id)] = found[0]["TransitGatewayId"]
            f.ok(f"{res.label}: {found[0]['TransitGatewayId']} available", res.label)
    return n


def _attachment_fix(t: Target, res: Res, state: str) -> str:
    if state == "pendingAcceptance":
        tgw = t.channel.by_id(res.get("transitGatewayId"))
        owner = tgw.stack.name if tgw else "network"
        return (f"the Transit Gateway's owner accepts it: release step 3: `pulumi up` on stack {owner} with "
                f"iotStack set (VpcAttachmentAccepter)")
    if state in ("pending", "modifying", "initiating", "initiatingRequest"):
        return "AWS is still working on it: run verify again in a few minutes"
    return f"{t.up()} re-creates it (`pulumi refresh` first)"


def _attachments(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_TGW_ATTACHMENT):
        name = name_tag(res)
        found = [a for a in t.tgw_vpc_attachments() if t.owned(a, name) and a.get("State") != "deleted"]
        if len(found) != 1:
            f.bad(_missing(t, res, "Transit Gateway VPC attachment"), res.label)
            continue
        aid, state = found[0]["TransitGatewayAttachmentId"], str(found[0].get("State"))
        if state != "available":
            f.bad(f"{res.label}: {aid} is {state}, not available — {_attachment_fix(t, res, state)}", res.label)
        else:
            n += 1
            f.ok(f"{res.label}: {aid} available (accepted)", res.label)
    return n


def _accepted_attachments(t: Target, f: Findings) -> int:
    """The attachments this stack accepts (another account's, on this stack's Transit Gateway)."""
    n = 0
    for res in t.res(T_TGW_ACCEPTER):
        planned = t.channel.by_id(res.get("transitGatewayAttachmentId"))
        if planned is None:
            continue
        tgw_res = t.channel.by_id(planned.get("transitGatewayId"))
        tgw = t.cache.get(("tgw", tgw_res.id)) if tgw_res else None
        owner = planned.stack.account_id
        found = [a for a in t.account.pages("ec2", "DescribeTransitGatewayAttachments", "TransitGatewayAttachments")
                 if a.get("TransitGatewayId") == tgw and a.get("ResourceOwnerId") == owner
                 and a.get("ResourceType") == "vpc" and a.get("State") != "deleted"]
        if tgw is None:
            continue  # the Transit Gateway itself is reported
        if not found:
            f.bad(f"{res.label}: no VPC attachment of account {owner} on the Transit Gateway — release step 2: "
                  f"`pulumi up` on stack {planned.stack.name} creates it", res.label)
            continue
        bad = [a for a in found if a.get("State") != "available"]
        for a in bad:
            f.bad(f"{res.label}: attachment {a['TransitGatewayAttachmentId']} of account {owner} is {a.get('State')}, "
                  f"not available — {_attachment_fix(t, planned, str(a.get('State')))}", res.label)
        if not bad:
            n += 1
            f.ok(f"{res.label}: attachment {found[0]['TransitGatewayAttachmentId']} of account {owner} accepted",
                 res.label)
    return n


def _endpoint_services(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_ENDPOINT_SERVICE):
        name = name_tag(res)
        found = [s for s in t.account.pages("ec2", "DescribeVpcEndpointServiceConfigurations", "ServiceConfigurations")
                 if t.owned(s, name) and str(s.get("ServiceState", "")).lower() != "deleted"]
        if len(found) != 1:
            f.bad(_missing(t, res, "endpoint service"), res.label)
            continue
        service = found[0]
        sid, state = service["ServiceId"], str(service.get("ServiceState"))
        if state.lower() != "available":
            f.bad(f"{res.label}: {sid} is {state} — run verify again once it is Available", res.label)
            continue
        n += 1
        f.ok(f"{res.label}: {sid} ({service.get('ServiceName')}) Available", res.label)
        connections = t.account.pages("ec2", "DescribeVpcEndpointConnections", "VpcEndpointConnections",
                                      Filters=[{"Name": "service-id", "Values": [sid]}])
        n += _connections(t, f, res, sid, connections)
    return n


def _connections(t: Target, f: Findings, service: Res, sid: str, connections: list[dict[str, Any]]) -> int:
    n = 0
    accepted_accounts = set()
    for accepter in t.res(T_CONNECTION_ACCEPTER):
        if accepter.get("vpcEndpointServiceId") != service.id:
            continue
        consumer = t.channel.by_id(accepter.get("vpcEndpointId"))
        if consumer is None:
            continue
        account = consumer.stack.account_id
        accepted_accounts.add(account)
        mine = [c for c in connections if c.get("VpcEndpointOwner") == account]
        if not mine:
            f.bad(f"{accepter.label}: no endpoint of account {account} connects to {sid} — release step 4: "
                  f"`pulumi up` on stack {consumer.stack.name} creates it", accepter.label)
            continue
        for c in mine:
            state = str(c.get("VpcEndpointState", ""))
            if state.lower() == "available":
                n += 1
                f.ok(f"{accepter.label}: endpoint {c.get('VpcEndpointId')} of account {account} connected (available)",
                     accepter.label)
            elif state.lower() == "pendingacceptance":
                f.bad(f"{accepter.label}: endpoint {c.get('VpcEndpointId')} of account {account} is pendingAcceptance "
                      f"on {sid} — {t.up('iot', 5)} (VpcEndpointConnectionAccepter)", accepter.label)
            else:
                f.bad(f"{accepter.label}: endpoint {c.get('VpcEndpointId')} of account {account} is {state} on {sid} — "
                      f"`pulumi up` on stack {consumer.stack.name} re-creates it, then {t.up('iot', 5)}",
                      accepter.label)
    for c in connections:
        if str(c.get("VpcEndpointState", "")).lower() == "available" and c.get("VpcEndpointOwner") not in accepted_accounts:
            f.bad(f"{service.label}: {sid} serves endpoint {c.get('VpcEndpointId')} of account "
                  f"{c.get('VpcEndpointOwner')}, which the plan does not accept — reject it "
                  "(`aws ec2 reject-vpc-endpoint-connections`) or add the account to consumers", service.label)
    return n


def _zones(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_ZONE):
        name = str(res.get("name"))
        zone = t.zone_for(res)
        if zone is None:
            count = len(t.zones_named(name))
            if count > 1:
                f.bad(f"{res.label}: {count} private zones named {name} and none serves this stack's VPC alone — "
                      "delete the stray one", res.label)
            else:
                f.bad(_missing(t, res, f"private zone {name}"), res.label)
            continue
        zid = zone["Id"].rsplit("/", 1)[-1]
        attached = {v.get("VPCId") for v in zone["VPCs"]}
        own = {}
        for association in res.get("vpcs") or []:
            vpc = t.vpc(association.get("vpcId"))
            own[association.get("vpcId")] = vpc["VpcId"] if vpc else None
        problems = [f"{res.label}: zone {name} ({zid}) is not associated with {t.channel.vpc(mock).label} "
                    f"{real or '(not found)'} — {t.up()}" for mock, real in own.items() if real not in attached]
        others = attached - set(own.values())
        authorized = [a for a in t.channel.of_type(T_ZONE_AUTH, t.stack) if a.get("zoneId") == res.id]
        if len(others) < len(authorized):
            vpcs = ", ".join(f"{v.label} ({v.get('cidrBlock')})" for v in
                             (t.channel.vpc(a.get("vpcId")) for a in authorized) if v) or "another account's VPC"
            owners = sorted({v.stack.name for v in (t.channel.vpc(a.get("vpcId")) for a in authorized) if v})
            problems.append(f"{res.label}: zone {name} ({zid}) serves {len(others)} VPC(s) of other accounts, the plan "
                            f"{len(authorized)}: {vpcs} — release step 3: `pulumi up` on stack "
                            f"{', '.join(owners) or 'network'} associates it (ZoneAssociation)")
        for problem in problems:
            f.bad(problem, res.label)
        if not problems:
            n += 1
            f.ok(f"{res.label}: zone {name} ({zid}) associated with {joined(attached)}", res.label)
    return n


def _zone_associations(t: Target, f: Findings) -> int:
    """This stack's VPCs associated with another account's zones (the network stack's device VPC)."""
    n = 0
    by_vpc: dict[str, list[Res]] = {}
    for res in t.res(T_ZONE_ASSOC):
        by_vpc.setdefault(res.get("vpcId"), []).append(res)
    for mock_vpc, associations in by_vpc.items():
        vpc = t.vpc(mock_vpc)
        if vpc is None:
            continue  # reported with the VPCs
        listed = t.account.pages("route53", "ListHostedZonesByVPC", "HostedZoneSummaries",
                                 VPCId=vpc["VpcId"], VPCRegion=t.account.region)
        names = {str(z.get("Name", "")).rstrip(".").lower() for z in listed}
        for res in associations:
            zone = t.channel.by_id(res.get("zoneId"))
            name = str(zone.get("name") if zone else res.get("zoneId")).rstrip(".").lower()
            if name in names:
                n += 1
                f.ok(f"{res.label}: {vpc['VpcId']} resolves zone {name}", res.label)
            else:
                owner = zone.stack.name if zone else "iot"
                f.bad(f"{res.label}: {vpc['VpcId']} is not associated with zone {name} — release step 3: "
                      f"{t.up()} (the zone's stack {owner} authorizes it in release step 2)", res.label)
    return n


def _resolvers(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_RESOLVER):
        name = res.get("name")
        found = [e for e in t.account.pages("route53resolver", "ListResolverEndpoints", "ResolverEndpoints")
                 if e.get("Name") == name and e.get("Direction") == res.get("direction")]
        if len(found) != 1:
            f.bad(_missing(t, res, f"Resolver endpoint named {name}"), res.label)
            continue
        endpoint = found[0]
        planned = [a.get("ip") for a in res.get("ipAddresses") or [] if a.get("ip")]
        got = [a.get("Ip") for a in t.account.pages("route53resolver", "ListResolverEndpointIpAddresses", "IpAddresses",
                                                    ResolverEndpointId=endpoint["Id"])]
        if endpoint.get("Status") != "OPERATIONAL":
            f.bad(f"{res.label}: {endpoint['Id']} is {endpoint.get('Status')} ({endpoint.get('StatusMessage', '')}) — "
                  "on-premises resolvers get no answers until it is OPERATIONAL", res.label)
        elif planned and sorted(got) != sorted(planned):
            f.bad(f"{res.label}: {endpoint['Id']} listens on {joined(got)}, the plan {joined(planned)} — on-premises "
                  f"resolvers forward to the planned addresses; {t.up()}", res.label)
        else:
            n += 1
            f.ok(f"{res.label}: {endpoint['Id']} OPERATIONAL on {joined(got)}", res.label)
    return n


def _instances(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_INSTANCE):
        name = name_tag(res)
        found = [i for r in t.account.pages("ec2", "DescribeInstances", "Reservations",
                                            Filters=[{"Name": "tag:Name", "Values": [name]}])
                 for i in r.get("Instances") or [] if t.owned(i, name)
                 and (i.get("State") or {}).get("Name") not in ("terminated", "shutting-down")]
        if len(found) != 1:
            f.bad(_missing(t, res, "instance"), res.label)
        elif found[0]["State"]["Name"] != "running":
            f.bad(f"{res.label}: {found[0]['InstanceId']} is {found[0]['State']['Name']} — start it "
                  f"(`aws ec2 start-instances --instance-ids {found[0]['InstanceId']}`)", res.label)
        else:
            n += 1
            f.ok(f"{res.label}: {found[0]['InstanceId']} running", res.label)
    return n


def _domain_configurations(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_IOT_DOMAIN):
        name = str(res.get("name"))
        try:
            got = t.account.call("iot", "DescribeDomainConfiguration", domainConfigurationName=name)
        except CallFailed as exc:
            if exc.code != "ResourceNotFoundException":
                raise
            f.bad(_missing(t, res, f"domain configuration {name}"), res.label)
            continue
        problems = []
        status = got.get("domainConfigurationStatus")
        if status != "ENABLED":
            problems.append(f"{res.label}: domain configuration {name} is {status}: IoT Core refuses {res.get('domainName')} "
                            f"— {t.up()} enables it again (status ENABLED)")
        authorizer = (res.get("authorizerConfig") or {}).get("defaultAuthorizerName")
        real = (got.get("authorizerConfig") or {}).get("defaultAuthorizerName")
        if authorizer and real != authorizer:
            problems.append(f"{res.label}: domain configuration {name} uses authorizer {real or '(none)'}, the plan "
                            f"{authorizer} — {t.up()}")
        if got.get("domainName") != res.get("domainName"):
            problems.append(f"{res.label}: domain configuration {name} serves {got.get('domainName')}, the plan "
                            f"{res.get('domainName')} — the name forces a new configuration: {t.up()}")
        for problem in problems:
            f.bad(problem, res.label)
        if not problems:
            n += 1
            f.ok(f"{res.label}: domain configuration {name} ENABLED for {got.get('domainName')} with authorizer {real}",
                 res.label)
    return n


def _authorizers(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_IOT_AUTHORIZER):
        name = str(res.get("name"))
        try:
            got = t.account.call("iot", "DescribeAuthorizer", authorizerName=name).get("authorizerDescription") or {}
        except CallFailed as exc:
            if exc.code != "ResourceNotFoundException":
                raise
            f.bad(_missing(t, res, f"authorizer {name}"), res.label)
            continue
        function = str(res.get("authorizerFunctionArn") or "")
        if got.get("status") != "ACTIVE":
            f.bad(f"{res.label}: authorizer {name} is {got.get('status')}: every device is refused — {t.up()} sets it "
                  "ACTIVE", res.label)
        elif function and got.get("authorizerFunctionArn") != function:
            f.bad(f"{res.label}: authorizer {name} runs {got.get('authorizerFunctionArn')}, the plan {function} — "
                  f"{t.up()}", res.label)
        else:
            n += 1
            f.ok(f"{res.label}: authorizer {name} ACTIVE, function {got.get('authorizerFunctionArn')}", res.label)
    return n


def _topic(t: Target, res: Res) -> str | None:
    """The real topic ARN: its name, or Pulumi's auto-name (the resource name, a dash, 7 characters)."""
    explicit = res.r.inputs.get("name")
    arns = [x["TopicArn"] for x in t.account.pages("sns", "ListTopics", "Topics")]

    def named(arn: str) -> bool:
        topic = arn.rsplit(":", 1)[-1]
        if explicit:
            return topic == explicit
        prefix = f"{res.r.name}-"
        return topic.startswith(prefix) and len(topic) == len(prefix) + 7
    found = [a for a in arns if named(a)]
    if len(found) > 1:
        found = [a for a in found if t.owned(t.account.call("sns", "ListTagsForResource", ResourceArn=a), None)]
    return found[0] if len(found) == 1 else None


def _subscriptions(t: Target, f: Findings) -> int:
    n = 0
    for res in t.res(T_TOPIC):
        planned = [s for s in t.res(T_SUBSCRIPTION) if s.get("topic") == res.get("arn")]
        if not planned:
            continue
        arn = _topic(t, res)
        if arn is None:
            f.bad(_missing(t, res, f"SNS topic named {res.r.name}-<7 characters>"), res.label)
            continue
        subscriptions = t.account.pages("sns", "ListSubscriptionsByTopic", "Subscriptions", TopicArn=arn)
        for sub in planned:
            protocol, endpoint = sub.get("protocol"), sub.get("endpoint")
            mine = [s for s in subscriptions if s.get("Protocol") == protocol and s.get("Endpoint") == endpoint]
            if not mine:
                f.bad(f"{sub.label}: topic {arn} has no {protocol} subscription for {endpoint} — {t.up()}", sub.label)
            elif all(s.get("SubscriptionArn") == "PendingConfirmation" for s in mine):
                f.bad(f"{sub.label}: the {protocol} subscription of {endpoint} to {arn} is PendingConfirmation: alarms "
                      f"reach no one — confirm it from the message AWS sent to {endpoint} (to send it again: "
                      f"`aws sns subscribe --topic-arn {arn} --protocol {protocol} --notification-endpoint {endpoint}`)",
                      sub.label)
            else:
                n += 1
                f.ok(f"{sub.label}: {protocol} subscription of {endpoint} to {arn} confirmed", sub.label)
    return n
