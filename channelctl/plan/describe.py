"""What the plan shows of each account and resource: the resources a reviewer looks for first,
the device-access mode, the verdict line, and a resource as JSON (which ``plan --compare`` reads)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channelctl.plan.checks import PlannedStack, endpoint_kind, short_type
from channelctl.plan.render import RenderedResource

if TYPE_CHECKING:
    from channelctl.plan.build import Plan


def important(stack: PlannedStack) -> list[tuple[str, str, str]]:
    """(type, name, what it is) for the resources a reviewer looks for first."""
    rows: list[tuple[str, str, str]] = []
    order = list(_DESCRIBERS)
    for r in sorted(stack.rendered.resources, key=lambda r: (order.index(r.type) if r.type in order else 0, r.name)):
        describe = _DESCRIBERS.get(r.type)
        if describe is None:
            continue
        text = describe(r)
        if text is not None:
            rows.append((short_type(r.type), r.name, text))
    return rows


def _val(r: RenderedResource, key: str) -> Any:
    value = r.inputs.get(key)
    return r.state.get(key) if value is None else value


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values or []) or "-"


def _describe_endpoint(r: RenderedResource) -> str:
    service = _val(r, "serviceName")
    kind = endpoint_kind(service)
    ips = [c.get("ipv4") for c in _val(r, "subnetConfigurations") or [] if c.get("ipv4")]
    where = _join(ips) if ips else "IPs assigned by AWS"
    label = {"privatelink": "PrivateLink endpoint to"}.get(kind, "interface endpoint")
    return f"{label} {service} ({r.id}; {where}; private DNS {'on' if _val(r, 'privateDnsEnabled') else 'off'})"


_DESCRIBERS: dict[str, Any] = {
    "aws:ec2/vpc:Vpc": lambda r: f"VPC {_val(r, 'cidrBlock')} ({r.id})",
    "aws:ec2transitgateway/transitGateway:TransitGateway": lambda r: f"Transit Gateway {r.id}, ASN {_int(_val(r, 'amazonSideAsn'))}",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": lambda r: f"TGW attachment {r.id} of {_val(r, 'vpcId')}",
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": lambda r: f"accepts TGW attachment {_val(r, 'transitGatewayAttachmentId')}",
    "aws:directconnect/gateway:Gateway": lambda r: f"Direct Connect gateway {r.id}, ASN {_val(r, 'amazonSideAsn')}",
    "aws:directconnect/gatewayAssociation:GatewayAssociation": lambda r: f"DX gateway <-> {_val(r, 'associatedGatewayId')}, allowed prefixes {_join(_val(r, 'allowedPrefixes'))}",
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": lambda r: f"transit VIF on {_val(r, 'connectionId')}, VLAN {_int(_val(r, 'vlan'))}",
    "aws:route53/resolverEndpoint:ResolverEndpoint": lambda r: f"Resolver {str(_val(r, 'direction')).lower()} endpoint, IPs {_join(e.get('ip') for e in _val(r, 'ipAddresses') or [])}",
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda r: (
        _describe_endpoint(r)
        if endpoint_kind(_val(r, "serviceName")) != "other" and str(_val(r, "vpcEndpointType")).lower() == "interface"
        else None
    ),
    "aws:route53/zone:Zone": lambda r: f"private zone {_val(r, 'name')} ({r.id})",
    "aws:lb/loadBalancer:LoadBalancer": lambda r: f"{'internal' if _val(r, 'internal') else 'INTERNET-FACING'} {_val(r, 'loadBalancerType')} load balancer, IPs {_join(m.get('privateIpv4Address') for m in _val(r, 'subnetMappings') or [])}",
    "aws:lb/listener:Listener": lambda r: f"listener {_val(r, 'protocol')} {_int(_val(r, 'port'))}",
    "aws:ec2/vpcEndpointService:VpcEndpointService": lambda r: f"endpoint service {_val(r, 'serviceName')}, principals {_join(_val(r, 'allowedPrincipals'))}, acceptance {'required' if _val(r, 'acceptanceRequired') else 'automatic'}",
    "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter": lambda r: f"accepts endpoint {_val(r, 'vpcEndpointId')}",
    "aws:iot/policy:Policy": lambda r: "IoT policy for certificate devices",
    "aws:iot/authorizer:Authorizer": lambda r: f"IoT custom authorizer {_val(r, 'name')}",
    "aws:iot/domainConfiguration:DomainConfiguration": lambda r: f"IoT domain configuration {_val(r, 'domainName')}",
    "aws:lambda/function:Function": lambda r: f"Lambda function {_val(r, 'name') or r.name} ({_val(r, 'runtime')})",
    "aws:dynamodb/table:Table": lambda r: f"DynamoDB table {_val(r, 'name') or r.name}",
    "aws:autoscaling/group:Group": lambda r: f"Auto Scaling group, {_int(_val(r, 'minSize'))}-{_int(_val(r, 'maxSize'))} instances",
    "aws:ec2/instance:Instance": lambda r: f"EC2 instance {_val(r, 'instanceType')} ({r.id})",
}


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def device_access(stack: PlannedStack) -> str | None:
    """How devices reach the custom domain, for an iot stack: the mode and its family ports."""
    if stack.role != "iot":
        return None
    mode = stack.rendered.exports.get("deviceAccessMode")
    if not mode:
        return "none (no deviceAccess: devices use the iot.data endpoints on 8883/443 only)"
    families = (stack.config.get("deviceAccess") or {}).get("families") or []
    ports = ", ".join(f"{f.get('name')} on {f.get('port')}" for f in families if isinstance(f, Mapping))
    how = {
        "tls-proxy": "NLB TLS listeners -> proxy fleet -> iot.data :443 with ALPN mqtt and SNI",
        "tcp-passthrough": "NLB TCP listeners -> iot.data :443, the devices' own TLS",
        "direct": "the custom domain resolves to the iot.data endpoint IPs",
    }.get(str(mode), "")
    return f"{mode}" + (f" ({how})" if how else "") + (f"; families {ports}" if ports else "")


def verdict(plan: Plan) -> str:
    """The plan's one-line verdict, the last line of the text output."""
    failed = [c.name for c in plan.checks if c.status == "FAIL"]
    if failed:
        return f"FAIL: {len(failed)} of {len(plan.checks)} checks failed ({', '.join(failed)})"
    pending = [c for c in plan.checks if c.pending]
    if pending:
        steps = sorted({c.pending.split(" (", 1)[0] for c in pending}, key=lambda s: int(s.split()[1]))
        return (f"PASS: {len(plan.checks) - len(pending)} of {len(plan.checks)} checks passed, {len(pending)} pending "
                f"until {' and '.join(steps)} of the release ({', '.join(c.name for c in pending)})")
    return f"PASS: all {len(plan.checks)} checks passed"


def resource_json(r: RenderedResource) -> dict[str, Any]:
    """A resource as ``--format json`` shows it: with the inputs and options ``plan --compare`` reads."""
    return {
        "type": r.type,
        "name": r.name,
        "id": r.id,
        "urn": r.urn,
        "parent": r.parent,
        "provider": r.provider,
        "inputs": _jsonable(r.inputs),
        "options": r.options,
        # What other resources' inputs carry of it, computed by the provider (not an input
        # echoed back, like a record's zoneId): a replacement changes these.
        "outputs": {k: r.state[k] for k in _REFERENCED_OUTPUTS if isinstance(r.state.get(k), str) and k not in r.inputs},
    }


_REFERENCED_OUTPUTS = ("arn", "zoneId", "serviceName", "dnsName")


def _jsonable(value: Any) -> Any:
    """Inputs as JSON; an asset or archive as the SHA-256 of its content, so that a copy of the
    project elsewhere (the base branch's checkout) compares equal."""
    import hashlib

    import pulumi

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _jsonable(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        try:
            return {"sha256": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
        except OSError:
            return {"file": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {"sha256": hashlib.sha256(value.text.encode()).hexdigest()}
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"asset": type(value).__name__, "path": str(getattr(value, "path", getattr(value, "uri", "")))}
    return value
