"""PrivateHostZone: one private hosted zone for exactly one host name.

A zone per host name the devices use — never a zone for a whole service
domain such as ``iot.<region>.amazonaws.com``, which would shadow every other
IoT host name in the VPCs it is associated with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.config import ConfigError

RECORD_TTL = 60


@dataclass(frozen=True, kw_only=True)
class AliasTarget:
    dns_name: pulumi.Input[str]
    zone_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class PrivateHostZoneArgs:
    host: str
    """The one host name the zone answers for (the zone apex)."""
    vpc_id: pulumi.Input[str]
    """The VPC the zone is created with (same account)."""
    region: str
    address_sets: Sequence[Sequence[pulumi.Input[str]]] = ()
    """One list of IPs per endpoint; each endpoint gets an equal-weight weighted record (one routing policy for life)."""
    alias: AliasTarget | None = None
    """Alias to an endpoint's DNS name instead of fixed addresses (conflicts with address_sets)."""
    authorized_vpc_ids: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """VPCs of other accounts allowed to associate the zone (VpcAssociationAuthorization)."""
    wildcard: bool = False
    """Also answer ``*.<host>`` with the same addresses: the names one service endpoint
    serves below its host name (S3's virtual-hosted bucket names), nothing wider."""


def validate_host(host: str) -> None:
    labels = host.split(".")
    if len(labels) < 3 or any(not label for label in labels):
        raise ConfigError(f"private zone host {host!r} is not a full host name")
    # A zone named after a service domain would shadow its other host names.
    if host.startswith("iot.") and host.endswith(".amazonaws.com"):
        raise ConfigError(f"private zone host {host!r} is a whole service domain — name one host")


class PrivateHostZone(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]
    """The zone's ID, for associations from other accounts."""

    def __init__(self, name: str, args: PrivateHostZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:dns:PrivateHostZone", name, None, opts)
        validate_host(args.host)
        if bool(args.address_sets) == bool(args.alias):
            raise ValueError("PrivateHostZone needs exactly one of address_sets and alias")
        child = pulumi.ResourceOptions(parent=self)
        self.zone = aws.route53.Zone(
            f"{name}-zone",
            name=args.host,
            comment=f"Private answer for {args.host}: resolves to private endpoint addresses",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=args.vpc_id, vpc_region=args.region)],
            # Associations made from other accounts (ZoneAssociation) must not
            # show up as drift on this zone. A new host name replaces the zone
            # (``name`` forces replacement): the VPCs of other accounts lose it
            # at this stack's update and get the new one only with their own
            # ZoneAssociation, at their stack's next update — `channelctl plan
            # --compare` reports that window (channelctl/plan/dns_change.py).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["vpcs"]),
        )
        names = [(args.host, "")] + ([(f"*.{args.host}", "-wildcard")] if args.wildcard else [])
        for record_name, suffix in names:
            if args.alias:
                aws.route53.Record(
                    f"{name}-alias{suffix}",
                    zone_id=self.zone.zone_id,
                    name=record_name,
                    type="A",
                    aliases=[
                        aws.route53.RecordAliasArgs(
                            name=args.alias.dns_name, zone_id=args.alias.zone_id, evaluate_target_health=True
                        )
                    ],
                    opts=child,
                )
            else:
                # Always weighted, one record per endpoint with a stable set identifier,
                # even for a single endpoint: Route 53 refuses a weighted record next to
                # a simple one of the same name, and Pulumi creates the new records before
                # it deletes the old one, so a host whose fleet grows past one endpoint
                # could never move from a simple record to weighted ones. Growing adds a
                # record; a new zone adds an address to each record in place.
                for index, addresses in enumerate(args.address_sets):
                    aws.route53.Record(
                        f"{name}-a-{index}{suffix}",
                        zone_id=self.zone.zone_id,
                        name=record_name,
                        type="A",
                        ttl=RECORD_TTL,
                        set_identifier=f"endpoint-{index}",
                        weighted_routing_policies=[aws.route53.RecordWeightedRoutingPolicyArgs(weight=1)],
                        records=list(addresses),
                        opts=child,
                    )
        for index, vpc_id in enumerate(args.authorized_vpc_ids):
            aws.route53.VpcAssociationAuthorization(
                f"{name}-auth-{index}", zone_id=self.zone.zone_id, vpc_id=vpc_id, vpc_region=args.region, opts=child
            )
        self.zone_id = self.zone.zone_id
        self.register_outputs({"zone_id": self.zone_id})
