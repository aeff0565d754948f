"""PrivateIotChannel: the network account's half of the channel.

Device VPC (private subnets only), Route 53 Resolver inbound endpoint for the
devices' DNS, a Transit Gateway shared with the IoT account through RAM, and a
Direct Connect gateway associated with it. Phase 2, once the iot stack has
exported them: accept the gatekeeper VPC's attachment, route to it, and
associate the IoT account's private zones with the device VPC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import pulumi
import pulumi_aws as aws

from components import addressing
from components.config import NetworkConfig
from components.private_vpc import private_vpc

DNS_PORT = 53


@dataclass(frozen=True, kw_only=True)
class PrivateIotChannelArgs:
    """Inputs of the network account's component."""

    config: NetworkConfig
    # The gatekeeper VPC's TGW attachment ID, exported by the iot stack
    # (`transitGatewayAttachmentId`); None until that stack exists.
    gatekeeper_attachment_id: str | None = None
    # host name -> private hosted zone ID, exported by the iot stack
    # (`privateZoneIds`); each zone is associated with the device VPC.
    private_zone_ids: Mapping[str, str] = field(default_factory=dict)


def slug(text: str, limit: int = 40) -> str:
    """A resource-name-safe, stable form of a host name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


class PrivateIotChannel(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    """The device VPC."""
    transit_gateway_id: pulumi.Output[str]
    """The Transit Gateway shared with the IoT account."""
    resource_share_arn: pulumi.Output[str]
    """The RAM share carrying the Transit Gateway."""
    resolver_inbound_ips: list[str]
    """Fixed IPs of the Resolver inbound endpoint, one per AZ: on-prem DNS forwards to these."""
    direct_connect_gateway_id: pulumi.Output[str]
    """The Direct Connect gateway associated with the Transit Gateway."""

    def __init__(self, name: str, args: PrivateIotChannelArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:network:PrivateIotChannel", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)

        # --- device VPC: private subnets only, no internet or NAT gateway ---
        subnet_ranges = addressing.subnet_cidrs("deviceVpcCidr", cfg.device_vpc_cidr, len(cfg.availability_zones))
        network = private_vpc(
            name, cidr=cfg.device_vpc_cidr, zones=cfg.availability_zones, subnet_ranges=subnet_ranges,
            label=f"{name}-device", parent=self,
            reserved_blocks=[addressing.reservation_blocks(cidr, [addressing.SLOT_RESOLVER]) for cidr in subnet_ranges],
        )
        self.vpc, self.subnets, self.route_table = network.vpc, network.subnets, network.route_table
        self.reservations = network.reservations

        # --- DNS for devices: Resolver inbound endpoint, fixed IPs ---------
        # Only inbound rules: security groups are stateful, so answers need no
        # egress rule, and the endpoint itself never opens connections.
        self.resolver_sg = aws.ec2.SecurityGroup(
            f"{name}-resolver-sg",
            vpc_id=self.vpc.id,
            description="Route 53 Resolver inbound: DNS from on-premises resolvers only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol=proto,
                    from_port=DNS_PORT,
                    to_port=DNS_PORT,
                    cidr_blocks=list(cfg.on_prem_cidrs),
                    description=f"DNS over {proto.upper()} from on-premises",
                )
                for proto in ("tcp", "udp")
            ],
            tags={"Name": f"{name}-resolver"},
            opts=child,
        )
        self.resolver_inbound_ips = [addressing.host(cidr, addressing.SLOT_RESOLVER) for cidr in subnet_ranges]
        self.resolver = aws.route53.ResolverEndpoint(
            f"{name}-resolver",
            name=f"{name}-inbound",
            direction="INBOUND",
            protocols=["Do53"],
            security_group_ids=[self.resolver_sg.id],
            ip_addresses=[
                aws.route53.ResolverEndpointIpAddressArgs(subnet_id=subnet.id, ip=ip)
                for subnet, ip in zip(self.subnets, self.resolver_inbound_ips)
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.reservations)),
        )

        # --- Transit Gateway, shared with the IoT account ----------------
        # No automatic acceptance and no default route table: every
        # attachment is accepted and routed explicitly by this stack.
        self.tgw = aws.ec2transitgateway.TransitGateway(
            f"{name}-tgw",
            description="Private MQTT channel: on-premises and device VPC to the gatekeeper VPC",
            amazon_side_asn=cfg.transit_gateway_asn,
            auto_accept_shared_attachments="disable",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
            dns_support="enable",
            vpn_ecmp_support="enable",
            tags={"Name": f"{name}-tgw"},
            opts=child,
        )
        self.tgw_route_table = aws.ec2transitgateway.RouteTable(
            f"{name}-tgw-rt", transit_gateway_id=self.tgw.id, tags={"Name": f"{name}-channel"}, opts=child
        )
        self.share = aws.ram.ResourceShare(
            f"{name}-tgw-share",
            name=f"{name}-transit-gateway",
            # Outside one AWS Organization the IoT account is an external principal.
            allow_external_principals=not cfg.same_organization,
            opts=child,
        )
        aws.ram.ResourceAssociation(
            f"{name}-tgw-share-tgw", resource_arn=self.tgw.arn, resource_share_arn=self.share.arn, opts=child
        )
        aws.ram.PrincipalAssociation(
            f"{name}-tgw-share-iot", principal=cfg.iot_account_id, resource_share_arn=self.share.arn, opts=child
        )

        self.device_attachment = aws.ec2transitgateway.VpcAttachment(
            f"{name}-device-attachment",
            transit_gateway_id=self.tgw.id,
            vpc_id=self.vpc.id,
            subnet_ids=[s.id for s in self.subnets],
            dns_support="enable",
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            tags={"Name": f"{name}-device"},
            # AWS addresses the attachment's ENIs itself: after the reservations, never in them.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.reservations)),
        )
        self._route_vpc_attachment(name, "device", self.device_attachment.id, cfg.device_vpc_cidr)

        # --- Direct Connect ------------------------------------------------
        self.dx_gateway = aws.directconnect.Gateway(
            f"{name}-dxgw", name=f"{name}-dxgw", amazon_side_asn=str(cfg.direct_connect.gateway_asn), opts=child
        )
        # allowed_prefixes are what the DX gateway advertises on-premises:
        # exactly the two VPCs devices talk to, nothing wider.
        self.dx_association = aws.directconnect.GatewayAssociation(
            f"{name}-dxgw-tgw",
            dx_gateway_id=self.dx_gateway.id,
            associated_gateway_id=self.tgw.id,
            allowed_prefixes=[cfg.device_vpc_cidr, cfg.gatekeeper_vpc_cidr],
            opts=child,
        )
        aws.ec2transitgateway.RouteTableAssociation(
            f"{name}-dx-assoc",
            transit_gateway_attachment_id=self.dx_association.transit_gateway_attachment_id,
            transit_gateway_route_table_id=self.tgw_route_table.id,
            opts=child,
        )
        # On-premises prefixes arrive over BGP from the DX gateway.
        aws.ec2transitgateway.RouteTablePropagation(
            f"{name}-dx-prop",
            transit_gateway_attachment_id=self.dx_association.transit_gateway_attachment_id,
            transit_gateway_route_table_id=self.tgw_route_table.id,
            opts=child,
        )
        dx = cfg.direct_connect
        if dx.connection_id:
            aws.directconnect.TransitVirtualInterface(
                f"{name}-transit-vif",
                name=f"{name}-transit",
                connection_id=dx.connection_id,
                dx_gateway_id=self.dx_gateway.id,
                vlan=dx.vlan,
                bgp_asn=dx.customer_asn,
                address_family="ipv4",
                mtu=dx.mtu,
                opts=child,
            )
        else:
            pulumi.log.info(
                "directConnect.connectionId is not set: no transit virtual interface is created; "
                "the DX gateway is ready for one",
                resource=self,
            )

        # Device VPC routes: back to on-premises and on to the gatekeeper VPC.
        route_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.device_attachment])
        destinations = [("onprem", c) for c in cfg.on_prem_cidrs] + [("gatekeeper", cfg.gatekeeper_vpc_cidr)]
        for label, cidr in destinations:
            aws.ec2.Route(
                f"{name}-route-{label}-{slug(cidr)}",
                route_table_id=self.route_table.id,
                destination_cidr_block=cidr,
                transit_gateway_id=self.tgw.id,
                opts=route_opts,
            )

        # --- phase 2: what needs the iot stack's exports ------------------
        self.gatekeeper_accepter = None
        if args.gatekeeper_attachment_id:
            self.gatekeeper_accepter = aws.ec2transitgateway.VpcAttachmentAccepter(
                f"{name}-gatekeeper-accepter",
                transit_gateway_attachment_id=args.gatekeeper_attachment_id,
                transit_gateway_default_route_table_association=False,
                transit_gateway_default_route_table_propagation=False,
                tags={"Name": f"{name}-gatekeeper"},
                opts=child,
            )
            self._route_vpc_attachment(
                name, "gatekeeper", self.gatekeeper_accepter.transit_gateway_attachment_id, cfg.gatekeeper_vpc_cidr
            )
        else:
            pulumi.log.info(
                "the iot stack has not exported transitGatewayAttachmentId yet: the gatekeeper attachment "
                "is not accepted or routed in this update; run this stack again after the iot stack",
                resource=self,
            )
        for host, zone_id in sorted(args.private_zone_ids.items()):
            aws.route53.ZoneAssociation(
                f"{name}-zone-{slug(host)}",
                zone_id=zone_id,
                vpc_id=self.vpc.id,
                vpc_region=cfg.common.region,
                opts=child,
            )
        if not args.private_zone_ids:
            pulumi.log.info(
                "the iot stack has not exported privateZoneIds yet: no private zone is associated with the "
                "device VPC in this update; run this stack again after the iot stack",
                resource=self,
            )

        self.vpc_id = self.vpc.id
        self.transit_gateway_id = self.tgw.id
        self.resource_share_arn = self.share.arn
        self.direct_connect_gateway_id = self.dx_gateway.id
        self.exports = {
            "accountId": cfg.common.account_id,
            "region": cfg.common.region,
            # The account the Transit Gateway is shared with: the iot stack refuses to attach from another.
            "iotAccountId": cfg.iot_account_id,
            # How the share is made: the iot stack accepts it the same way (SAME_ORGANIZATION_RULE).
            "sameOrganization": cfg.same_organization,
            "deviceVpcId": self.vpc.id,
            "deviceVpcCidr": cfg.device_vpc_cidr,
            "onPremCidrs": list(cfg.on_prem_cidrs),
            "transitGatewayId": self.tgw.id,
            "transitGatewayRouteTableId": self.tgw_route_table.id,
            "resourceShareArn": self.share.arn,
            "resolverInboundIps": self.resolver_inbound_ips,
            "directConnectGatewayId": self.dx_gateway.id,
            # What step 3 accepted: the iot stack routes through its
            # attachment only once it is listed here.
            "acceptedTransitGatewayAttachmentIds": (
                [self.gatekeeper_accepter.transit_gateway_attachment_id] if self.gatekeeper_accepter else []
            ),
        }
        self.register_outputs(self.exports)

    def _route_vpc_attachment(self, name: str, label: str, attachment_id: pulumi.Input[str], cidr: str) -> None:
        """A VPC attachment in the channel's TGW route table, with a static
        route to its VPC's range (explicit, so a review sees every path)."""
        child = pulumi.ResourceOptions(parent=self)
        aws.ec2transitgateway.RouteTableAssociation(
            f"{name}-{label}-assoc",
            transit_gateway_attachment_id=attachment_id,
            transit_gateway_route_table_id=self.tgw_route_table.id,
            opts=child,
        )
        aws.ec2transitgateway.Route(
            f"{name}-tgw-route-{label}",
            destination_cidr_block=cidr,
            transit_gateway_attachment_id=attachment_id,
            transit_gateway_route_table_id=self.tgw_route_table.id,
            opts=child,
        )
