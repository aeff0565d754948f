"""ConsumerEndpoint: a consumer account's private way to the channel.

An interface endpoint to the iot stack's PrivateLink endpoint service, a
private hosted zone that makes the IoT data host name resolve to that
endpoint inside the consumer VPC, and optionally an application host managed
through Systems Manager only (no SSH key, no public IP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components import addressing
from components.config import MIN_AVAILABILITY_ZONES, ConfigError, ConsumerConfig
from components.private_host_zone import AliasTarget, PrivateHostZone, PrivateHostZoneArgs
from components.private_vpc import private_vpc, ssm_endpoints, ssm_instance_profile

MQTT_PORTS = (8883, 443)
HTTPS_PORT = 443


@dataclass(frozen=True, kw_only=True)
class IotInputs:
    """What the iot stack exported, as plain values."""

    endpoint_service_name: str
    data_endpoint_host: str
    custom_domain: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConsumerEndpointArgs:
    config: ConsumerConfig
    iot: IotInputs


def endpoint_zones(
    key: str, candidates: Sequence[tuple[str, str]], offered: Sequence[str], *, service: str, account_id: str
) -> list[str]:
    """The candidates (label, AZ name) that go into the endpoint: those in a zone
    where the endpoint service is offered as this account names its zones.

    AZ names map to different physical zones in different accounts, and an
    endpoint service is offered only in its NLB's zones: a subnet elsewhere
    fails with "does not support the Availability Zone of the subnet" (AWS
    Knowledge Center, interface-endpoint-availability-zone). The endpoint needs
    one subnet; two, in two zones, keep it up when a zone fails, as every other
    part of the channel does (the NLB, the Resolver, the gatekeeper's endpoints).
    An endpoint takes at most one subnet per zone (CreateVpcEndpoint).
    """
    offered_set = set(offered)
    chosen = [label for label, zone in candidates if zone in offered_set]
    zones = [zone for _, zone in candidates if zone in offered_set]
    shown = ", ".join(label if label == zone else f"{label} ({zone})" for label, zone in candidates)
    if len(set(zones)) != len(zones):
        raise ConfigError(
            f"{key} [{shown}] puts two subnets in one availability zone — an interface endpoint takes one subnet "
            f"per zone; list one subnet per zone"
        )
    if len(chosen) < MIN_AVAILABILITY_ZONES:
        raise ConfigError(
            f"{key} [{shown}] overlaps {len(chosen)} of the zones where endpoint service {service} is offered as "
            f"account {account_id} names them ({', '.join(sorted(offered_set)) or 'none'}) — "
            f"{'list' if key == 'availabilityZones' else 'give subnets in'} at least {MIN_AVAILABILITY_ZONES} of "
            "those zones (AZ names differ between accounts; `aws ec2 describe-vpc-endpoint-services "
            "--service-names <service>` in this account shows them)"
        )
    return chosen


class ConsumerEndpoint(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    """The consumer VPC (created, or the existing one from config)."""
    endpoint_id: pulumi.Output[str]
    """The interface endpoint to the channel's endpoint service."""
    zone_id: pulumi.Output[str]
    """The private zone answering for the IoT data host name."""

    def __init__(self, name: str, args: ConsumerEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:consumer:ConsumerEndpoint", name, None, opts)
        cfg, iot = args.config, args.iot
        region = cfg.common.region
        provider = opts.provider if opts else None
        invoke = pulumi.InvokeOptions(provider=provider, parent=self)
        child = pulumi.ResourceOptions(parent=self)
        vpc_cidr = cfg.effective_vpc_cidr

        # --- where the endpoint may go, in this account's zone names --------
        # Looked up with this stack's own provider: the answer names the zones
        # the way this account does, whatever the IoT account calls them.
        offered = list(
            aws.ec2.get_vpc_endpoint_service(service_name=iot.endpoint_service_name, opts=invoke).availability_zones
        )
        if cfg.existing_vpc:
            subnet_zones = [
                (subnet_id, aws.ec2.get_subnet(id=subnet_id, opts=invoke).availability_zone)
                for subnet_id in cfg.existing_vpc.subnet_ids
            ]
            endpoint_labels = endpoint_zones(
                "existingVpc.subnetIds", subnet_zones, offered,
                service=iot.endpoint_service_name, account_id=cfg.common.account_id,
            )
        else:
            endpoint_labels = endpoint_zones(
                "availabilityZones", [(z, z) for z in cfg.availability_zones], offered,
                service=iot.endpoint_service_name, account_id=cfg.common.account_id,
            )
        self.endpoint_zones = endpoint_labels

        # --- the VPC: created with private subnets, or an existing one ----
        if cfg.existing_vpc:
            self.vpc_id = pulumi.Output.from_input(cfg.existing_vpc.vpc_id)
            subnet_ids: list[pulumi.Input[str]] = list(cfg.existing_vpc.subnet_ids)
            endpoint_subnet_ids: list[pulumi.Input[str]] = list(endpoint_labels)
        else:
            ranges = addressing.subnet_cidrs("vpcCidr", vpc_cidr, len(cfg.availability_zones))
            network = private_vpc(
                name, cidr=vpc_cidr, zones=cfg.availability_zones, subnet_ranges=ranges, label=name, parent=self
            )
            vpc, subnets = network.vpc, network.subnets
            self.vpc_id = vpc.id
            subnet_ids = [s.id for s in subnets]
            endpoint_subnet_ids = [s.id for z, s in zip(cfg.availability_zones, subnets) if z in endpoint_labels]

        # --- the endpoint to the channel ----------------------------------
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoint-sg",
            vpc_id=self.vpc_id,
            description="Channel endpoint: MQTT from this consumer VPC only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=p, to_port=p, cidr_blocks=[vpc_cidr], description=f"MQTT {p}"
                )
                for p in MQTT_PORTS
            ],
            tags={"Name": f"{name}-endpoint"},
            opts=child,
        )
        self.endpoint = aws.ec2.VpcEndpoint(
            f"{name}-endpoint",
            vpc_id=self.vpc_id,
            service_name=iot.endpoint_service_name,
            vpc_endpoint_type="Interface",
            private_dns_enabled=False,
            subnet_ids=endpoint_subnet_ids,
            security_group_ids=[endpoint_sg.id],
            tags={"Name": f"{name}-channel"},
            opts=child,
        )
        self.endpoint_id = self.endpoint.id
        alias = AliasTarget(
            dns_name=self.endpoint.dns_entries.apply(lambda entries: entries[0]["dns_name"]),
            zone_id=self.endpoint.dns_entries.apply(lambda entries: entries[0]["hosted_zone_id"]),
        )
        hosts = [("data", iot.data_endpoint_host)]
        if iot.custom_domain:
            hosts.append(("custom-domain", iot.custom_domain))
        zones = [
            PrivateHostZone(
                f"{name}-zone-{role}",
                PrivateHostZoneArgs(host=host, vpc_id=self.vpc_id, region=region, alias=alias),
                opts=child,
            )
            for role, host in hosts
        ]
        self.zone_id = zones[0].zone_id

        # --- optional application host, SSM-managed -----------------------
        self.instance = None
        if cfg.application_host.enabled:
            self.instance = self._application_host(name, cfg, subnet_ids, vpc_cidr, provider)
        else:
            pulumi.log.info("applicationHost.enabled is false: no application host", resource=self)

        self.exports = {
            "accountId": cfg.common.account_id,
            "consumerVpcId": self.vpc_id,
            "consumerVpcCidr": vpc_cidr,
            "consumerEndpointId": self.endpoint.id,
            "privateZoneId": self.zone_id,
        }
        self.register_outputs(self.exports)

    def _application_host(self, name, cfg: ConsumerConfig, subnet_ids, vpc_cidr: str, provider):
        child = pulumi.ResourceOptions(parent=self)
        ssm_endpoints(
            name, region=cfg.common.region, vpc_id=self.vpc_id, vpc_cidr=vpc_cidr, subnet_ids=subnet_ids, parent=self
        )
        profile = ssm_instance_profile(f"{name}-app", parent=self)
        app_sg = aws.ec2.SecurityGroup(
            f"{name}-app-sg",
            vpc_id=self.vpc_id,
            description="Application host: no inbound; MQTT and HTTPS out to the endpoints of this VPC only",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=p, to_port=p, cidr_blocks=[vpc_cidr], description=f"to endpoints {p}"
                )
                for p in sorted({*MQTT_PORTS, HTTPS_PORT})
            ],
            tags={"Name": f"{name}-app"},
            opts=child,
        )
        host = cfg.application_host
        if host.ami_id:
            ami, host_opts = host.ami_id, child
        else:
            # The parameter names the newest AMI, and an instance's AMI forces its
            # replacement: read it when the host is created, then ignore it, so a new
            # Amazon Linux release never replaces the host on the next `pulumi up`.
            # Set applicationHost.amiId to move to another AMI on purpose.
            ami = aws.ssm.get_parameter(
                name=host.ami_parameter, opts=pulumi.InvokeOptions(provider=provider, parent=self)
            ).value
            host_opts = pulumi.ResourceOptions(parent=self, ignore_changes=["ami"])
        return aws.ec2.Instance(
            f"{name}-app",
            ami=ami,
            instance_type=cfg.application_host.instance_type,
            subnet_id=subnet_ids[0],
            vpc_security_group_ids=[app_sg.id],
            iam_instance_profile=profile.name,
            associate_public_ip_address=False,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, volume_type="gp3"),
            tags={"Name": f"{name}-app"},
            opts=host_opts,
        )
