"""GatekeeperVpc: the IoT account's half of the channel.

The gatekeeper VPC is the only way into AWS IoT Core for this fleet: interface
endpoints for iot.data (as many as the fleet needs), iot.credentials and
Greengrass, each with fixed IPs and its own private hosted zone; an internal
NLB in front of the iot.data endpoints, published to consumer accounts as a
PrivateLink endpoint service; and the IoT policy that refuses any connection
that did not come through these endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components import addressing
from components import aws_limits
from components.config import (
    ConfigError,
    IotConfig,
    authorizer_sizing,
    gatekeeper_interface_endpoints,
    validate_reserved_concurrency,
)
from components.custom_authorizer import CustomAuthorizer, CustomAuthorizerArgs
from components.config.provisioning import allow_list_table_name
from components.device_access import (
    DeviceAccess,
    DeviceAccessArgs,
    nlb_rules,
    proxy_user_data,
    refresh_rate,
    uses_nlb,
)
from components.endpoint_targets import forward_to_endpoints
from components.iot_policy import thing_policy_json
from components.private_host_zone import PrivateHostZone, PrivateHostZoneArgs
from components.private_iot_channel import slug
from components.private_vpc import private_vpc
from components.references import known_now

MQTT_TLS_PORT = 8883
HTTPS_PORT = 443
# Greengrass core devices in a VPC set greengrassDataPlaneEndpoint: iotdata,
# so their data plane (deployments, component artifacts) goes to the iot.data
# endpoints on greengrassDataPlanePort: 8443 by default, or 443 (Greengrass
# nucleus configuration).
GREENGRASS_DATA_PLANE_PORT = 8443
NLB_PORTS = (MQTT_TLS_PORT, HTTPS_PORT)


@dataclass(frozen=True, kw_only=True)
class NetworkInputs:
    """What the network stack exported, as plain values."""

    account_id: str
    transit_gateway_id: str
    resource_share_arn: str
    device_vpc_id: str
    device_vpc_cidr: str
    on_prem_cidrs: tuple[str, ...]
    # The TGW attachments the network stack has accepted
    # (`acceptedTransitGatewayAttachmentIds`); empty until its step 3, None
    # when the network stack does not export the list at all (an older program).
    accepted_attachment_ids: tuple[str, ...] | None = ()


@dataclass(frozen=True, kw_only=True)
class GatekeeperVpcArgs:
    config: IotConfig
    network: NetworkInputs
    # consumer name -> its endpoint ID (exported by the consumer stack);
    # each is accepted on the endpoint service (phase 2).
    consumer_endpoint_ids: Mapping[str, str] = field(default_factory=dict)


def gatekeeper_services(cfg: IotConfig) -> list[str]:
    """Every service with an interface endpoint in the gatekeeper subnets, iot.data first."""
    others = gatekeeper_interface_endpoints(
        credentials=cfg.enable_credentials_endpoint, greengrass=cfg.enable_greengrass_endpoint, access=cfg.device_access
    )
    return [f"com.amazonaws.{cfg.common.region}.{s}" for s in ("iot.data", *others)]


def validate_offered_zones(
    key: str, zones: Sequence[str], offered: Mapping[str, Sequence[str]], account_id: str
) -> None:
    """Every configured zone offers every service the stack puts an interface endpoint of in its subnets.

    ``offered``: service name -> the zones where this account is offered it, as this account names
    them (DescribeVpcEndpointServices). An interface endpoint takes a subnet only in a zone its
    service is offered in; elsewhere CreateVpcEndpoint fails with "does not support the
    Availability Zone of the subnet" (AWS Knowledge Center, interface-endpoint-availability-zone).
    Zone names differ between accounts, so only this account's answer counts. The zones are
    checked, never chosen: a change in the offering never moves a subnet.
    """
    for service, names in offered.items():
        missing = [z for z in zones if z not in names]
        if missing:
            raise ConfigError(
                f"{key} {list(zones)}: {service} is not offered to account {account_id} in {', '.join(missing)}, "
                f"only in {', '.join(sorted(names)) or 'no zone'} — list only zones that offer every endpoint "
                f"service of the gatekeeper subnets ({', '.join(offered)}), as this account names its zones "
                f"(`aws ec2 describe-vpc-endpoint-services --service-names {service}` in this account, or "
                "`channelctl discover iot`, facts serviceZones)"
            )


class GatekeeperVpc(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    """The gatekeeper VPC."""
    data_endpoint_ids: list[pulumi.Output[str]]
    """The iot.data interface endpoints; IoT policies require aws:SourceVpce = one of these."""
    data_endpoint_ips: list[str]
    """Every iot.data endpoint IP (fixed), endpoint by endpoint."""
    endpoint_service_name: pulumi.Output[str]
    """The PrivateLink service consumers connect their endpoints to."""

    def __init__(self, name: str, args: GatekeeperVpcArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:iot:GatekeeperVpc", name, None, opts)
        cfg, net = args.config, args.network
        region, account = cfg.common.region, cfg.common.account_id
        provider = opts.provider if opts else None
        invoke = pulumi.InvokeOptions(provider=provider, parent=self)

        # --- look-ups, validation, address plan (before any child) ---------
        data_service = f"com.amazonaws.{region}.iot.data"
        # The zones are configured and only checked against what this account is offered now:
        # subnet i stays in availabilityZones[i] whatever AWS offers later (components/config/iot.py,
        # load_gatekeeper_zones). service_type: S3 offers a Gateway and an Interface service under one
        # name, and the data source fails when more than one matches (terraform-provider-aws
        # internal/service/ec2/vpc_endpoint_service_data_source.go, "multiple EC2 VPC Endpoint Services
        # matched").
        offered = {
            service: list(
                aws.ec2.get_vpc_endpoint_service(
                    service_name=service, service_type="Interface", opts=invoke
                ).availability_zones
            )
            for service in gatekeeper_services(cfg)
        }
        validate_offered_zones("availabilityZones", cfg.availability_zones, offered, account)
        self.zones = list(cfg.availability_zones)
        self.data_host = aws.iot.get_endpoint(endpoint_type="iot:Data-ATS", opts=invoke).endpoint_address
        credentials_host = (
            aws.iot.get_endpoint(endpoint_type="iot:CredentialProvider", opts=invoke).endpoint_address
            if cfg.enable_credentials_endpoint
            else None
        )
        if cfg.authorizer.enabled and cfg.authorizer.reserved_concurrency is not None:
            # Read through the stack's provider: the quota of the account the
            # function is created in, not a default.
            quota = aws.servicequotas.get_service_quota(
                service_code=aws_limits.LAMBDA_QUOTA_SERVICE_CODE,
                quota_code=aws_limits.LAMBDA_CONCURRENCY_QUOTA_CODE,
                opts=invoke,
            ).value
            validate_reserved_concurrency(
                "authorizer.reservedConcurrency", cfg.authorizer.reserved_concurrency, quota,
                needed=authorizer_sizing(
                    cfg.expected_devices, cfg.authorizer, reconnect_target_seconds=cfg.capacity.reconnect_target_seconds,
                    iot_connects_per_second=cfg.capacity.iot_connects_per_second,
                ),
            )
        subnet_ranges = addressing.subnet_cidrs("gatekeeperVpcCidr", cfg.gatekeeper_vpc_cidr, len(self.zones))
        # Sized for 100,000 connections per endpoint and 55,000 per NLB target.
        data_count = cfg.data_endpoint_count
        self.data_endpoint_ips_by_endpoint = [
            [addressing.host(cidr, addressing.SLOT_DATA_BASE + j) for cidr in subnet_ranges] for j in range(data_count)
        ]
        self.data_endpoint_ips = [ip for ips in self.data_endpoint_ips_by_endpoint for ip in ips]
        nlb_ips = [addressing.host(cidr, addressing.SLOT_NLB) for cidr in subnet_ranges]
        device_sources = sorted({*net.on_prem_cidrs, net.device_vpc_cidr, cfg.gatekeeper_vpc_cidr})
        access = cfg.device_access
        # Rendering the proxy's configuration validates it: a bad family,
        # domain or CA bundle stops the program before any resource.
        proxy_user_data_text = (
            proxy_user_data(access, cfg.custom_domain, self.data_endpoint_ips)
            if access is not None and access.mode == "tls-proxy"
            else None
        )
        family_ingress, family_egress = nlb_rules(
            access, device_sources=sorted({*net.on_prem_cidrs, net.device_vpc_cidr}), vpc_cidr=cfg.gatekeeper_vpc_cidr
        )
        child = pulumi.ResourceOptions(parent=self)

        # --- Transit Gateway share from the network account --------------
        accepter = None
        if cfg.same_organization:
            pulumi.log.info(
                "sameOrganization: the Transit Gateway share is accepted by the organization, no accepter is created",
                resource=self,
            )
        else:
            accepter = aws.ram.ResourceShareAccepter(f"{name}-tgw-share", share_arn=net.resource_share_arn, opts=child)

        # --- VPC, private subnets only ------------------------------------
        fixed_slots = [addressing.SLOT_NLB, *(addressing.SLOT_DATA_BASE + j for j in range(data_count))]
        if credentials_host:
            fixed_slots.append(addressing.SLOT_CREDENTIALS)
        if cfg.enable_greengrass_endpoint:
            fixed_slots += [addressing.SLOT_GREENGRASS, addressing.SLOT_S3]
        network = private_vpc(
            name, cidr=cfg.gatekeeper_vpc_cidr, zones=self.zones, subnet_ranges=subnet_ranges, label=name, parent=self,
            reserved_blocks=[addressing.reservation_blocks(cidr, fixed_slots) for cidr in subnet_ranges],
        )
        self.vpc, self.subnets, self.route_table = network.vpc, network.subnets, network.route_table
        self.reservations = network.reservations
        # What holds a fixed address waits for its reservation; what AWS addresses itself
        # waits too, so that it cannot take a fixed address first.
        after_reservations = pulumi.ResourceOptions(parent=self, depends_on=list(self.reservations))
        self.attachment = aws.ec2transitgateway.VpcAttachment(
            f"{name}-tgw-attachment",
            transit_gateway_id=net.transit_gateway_id,
            vpc_id=self.vpc.id,
            subnet_ids=[s.id for s in self.subnets],
            dns_support="enable",
            tags={"Name": f"{name}-gatekeeper"},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*self.reservations, *([accepter] if accepter else [])]
            ),
        )
        # Routes to a Transit Gateway through an attachment that is still
        # pendingAcceptance are reported to fail (the TGW is in another
        # account, which accepts the attachment in step 3). So the routes wait
        # for the network stack to export the attachment as accepted, and land
        # on this stack's next update (step 5).
        attachment_id = known_now(self.attachment.id)
        self.attachment_accepted = bool(attachment_id) and attachment_id in (net.accepted_attachment_ids or ())
        route_targets = [("onprem", c) for c in net.on_prem_cidrs] + [("device", net.device_vpc_cidr)]
        if self.attachment_accepted:
            route_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.attachment])
            for label, cidr in route_targets:
                aws.ec2.Route(
                    f"{name}-route-{label}-{slug(cidr)}",
                    route_table_id=self.route_table.id,
                    destination_cidr_block=cidr,
                    transit_gateway_id=net.transit_gateway_id,
                    opts=route_opts,
                )
        else:
            pulumi.log.info(
                f"the network stack has not accepted Transit Gateway attachment {attachment_id or '(new)'} yet "
                f"(its export acceptedTransitGatewayAttachmentIds does not list it): the gatekeeper VPC's routes to "
                f"{', '.join(c for _, c in route_targets)} through the Transit Gateway are not declared in this update; "
                "run the network stack again (step 3), then this stack again (step 5)"
                + (
                    "; the network stack exports no acceptedTransitGatewayAttachmentIds at all: update it with this "
                    "program first"
                    if net.accepted_attachment_ids is None
                    else ""
                ),
                resource=self,
            )

        # --- interface endpoints, private DNS off, fixed IPs --------------
        def endpoint_sg(role: str, ports: tuple[int, ...], what: str) -> aws.ec2.SecurityGroup:
            # Ingress only: endpoints never open connections, and security
            # groups are stateful.
            return aws.ec2.SecurityGroup(
                f"{name}-{role}-sg",
                vpc_id=self.vpc.id,
                description=f"{what}: device ports from on-premises, device VPC and gatekeeper VPC only",
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        protocol="tcp", from_port=p, to_port=p, cidr_blocks=device_sources, description=f"{what} {p}"
                    )
                    for p in ports
                ],
                tags={"Name": f"{name}-{role}"},
                opts=child,
            )

        def interface_endpoint(role: str, service: str, sg, slot: int) -> tuple[aws.ec2.VpcEndpoint, list[str]]:
            ips = [addressing.host(cidr, slot) for cidr in subnet_ranges]
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{role}",
                vpc_id=self.vpc.id,
                service_name=service,
                vpc_endpoint_type="Interface",
                # iot.data and iot.credentials do not support private DNS; the
                # private hosted zones below answer for their host names.
                private_dns_enabled=False,
                subnet_ids=[s.id for s in self.subnets],
                subnet_configurations=[
                    aws.ec2.VpcEndpointSubnetConfigurationArgs(subnet_id=s.id, ipv4=ip)
                    for s, ip in zip(self.subnets, ips)
                ],
                security_group_ids=[sg.id],
                tags={"Name": f"{name}-{role}"},
                opts=after_reservations,
            )
            return endpoint, ips

        data_ports = (MQTT_TLS_PORT, HTTPS_PORT) + (
            (GREENGRASS_DATA_PLANE_PORT,) if cfg.enable_greengrass_endpoint else ()
        )
        data_sg = endpoint_sg("iot-data", data_ports, "iot.data")
        self.data_endpoints = [
            interface_endpoint(f"iot-data-{j}", data_service, data_sg, addressing.SLOT_DATA_BASE + j)[0]
            for j in range(data_count)
        ]
        self.data_endpoint_ids = [e.id for e in self.data_endpoints]

        zone_specs: list[tuple[str, str, list[list[str]]]] = [
            ("data", self.data_host, self.data_endpoint_ips_by_endpoint)
        ]
        if credentials_host:
            cred_sg = endpoint_sg("iot-credentials", (HTTPS_PORT,), "iot.credentials")
            _, cred_ips = interface_endpoint(
                "iot-credentials", f"com.amazonaws.{region}.iot.credentials", cred_sg, addressing.SLOT_CREDENTIALS
            )
            zone_specs.append(("credentials", credentials_host, [cred_ips]))
        else:
            pulumi.log.info("enableCredentialsEndpoint is false: no iot.credentials endpoint", resource=self)
        wildcard_hosts: set[str] = set()
        if cfg.enable_greengrass_endpoint:
            # AWS IoT Greengrass developer guide, "Operate an AWS IoT Greengrass
            # core device in VPC": iot.data and iot.credentials (above, private
            # DNS off, a zone per host name) and S3, as interface endpoints.
            gg_sg = endpoint_sg("greengrass", (HTTPS_PORT,), "Greengrass")
            _, gg_ips = interface_endpoint(
                "greengrass", f"com.amazonaws.{region}.greengrass", gg_sg, addressing.SLOT_GREENGRASS
            )
            zone_specs.append(("greengrass", f"greengrass.{region}.amazonaws.com", [gg_ips]))
            # S3 as an interface endpoint, not a gateway endpoint: a gateway
            # endpoint is a route in this VPC's route tables and cannot be
            # reached from on-premises or through a Transit Gateway; interface
            # endpoints can, over Direct Connect (Amazon S3 user guide, "AWS
            # PrivateLink for Amazon S3", types of VPC endpoints for S3).
            # Private DNS would answer only inside this VPC, so, as for the IoT
            # endpoints, a private zone for the regional S3 host, whose
            # wildcard answers the virtual-hosted bucket names below it (the
            # names S3's own private DNS covers).
            s3_sg = endpoint_sg("s3", (HTTPS_PORT,), "S3")
            _, s3_ips = interface_endpoint("s3", f"com.amazonaws.{region}.s3", s3_sg, addressing.SLOT_S3)
            s3_host = f"s3.{region}.amazonaws.com"
            zone_specs.append(("s3", s3_host, [s3_ips]))
            wildcard_hosts.add(s3_host)
            # Greengrass core devices reach their data plane at greengrass-ats,
            # which the iot.data endpoints serve.
            zone_specs.append(
                ("greengrass-data", f"greengrass-ats.iot.{region}.amazonaws.com", self.data_endpoint_ips_by_endpoint)
            )
        else:
            pulumi.log.info("enableGreengrassEndpoint is false: no Greengrass endpoint", resource=self)
        if cfg.custom_domain:
            # The devices' host name: the NLB where it listens on their ports,
            # else straight to the iot.data endpoints.
            custom_addresses = [nlb_ips] if uses_nlb(access) else self.data_endpoint_ips_by_endpoint
            zone_specs.append(("custom-domain", cfg.custom_domain, custom_addresses))

        # --- one private hosted zone per host name ------------------------
        self.zones_by_host: dict[str, PrivateHostZone] = {}
        for role, host, address_sets in zone_specs:
            self.zones_by_host[host] = PrivateHostZone(
                f"{name}-zone-{role}",
                PrivateHostZoneArgs(
                    host=host,
                    vpc_id=self.vpc.id,
                    region=region,
                    address_sets=address_sets,
                    authorized_vpc_ids=[net.device_vpc_id],
                    wildcard=host in wildcard_hosts,
                ),
                opts=child,
            )

        # --- internal NLB in front of the iot.data endpoints --------------
        self.nlb_sg = aws.ec2.SecurityGroup(
            f"{name}-nlb-sg",
            vpc_id=self.vpc.id,
            description="Gatekeeper NLB: MQTT ports in from the channel ranges, out to the iot.data endpoints",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=p, to_port=p, cidr_blocks=device_sources, description=f"MQTT {p}"
                )
                for p in NLB_PORTS
            ]
            + family_ingress,
            egress=[
                # The endpoints' security group, not one /32 per endpoint IP:
                # a referenced group is one rule, and 45 endpoints in 2 zones
                # would be 180 rules, past the 60 a group holds (aws_limits).
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=p,
                    to_port=p,
                    security_groups=[data_sg.id],
                    description=f"to iot.data endpoints {p}",
                )
                for p in NLB_PORTS
            ]
            + family_egress,
            tags={"Name": f"{name}-nlb"},
            opts=child,
        )
        self.nlb = aws.lb.LoadBalancer(
            f"{name}-nlb",
            load_balancer_type="network",
            internal=True,
            subnet_mappings=[
                aws.lb.LoadBalancerSubnetMappingArgs(subnet_id=s.id, private_ipv4_address=ip)
                for s, ip in zip(self.subnets, nlb_ips)
            ],
            security_groups=[self.nlb_sg.id],
            # Consumers arrive through PrivateLink; who may do so is decided by
            # the endpoint service's allowed principals and acceptance.
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            enable_cross_zone_load_balancing=True,
            tags={"Name": f"{name}-nlb"},
            opts=after_reservations,
        )
        self.nlb_ips = nlb_ips
        self.endpoint_target_groups = []
        for port in NLB_PORTS:
            self.endpoint_target_groups.append(forward_to_endpoints(
                f"{name}-tg-{port}",
                listener_name=f"{name}-listener-{port}",
                tag_name=f"{name}-{port}",
                listener_port=port,
                target_port=port,
                vpc_id=self.vpc.id,
                nlb_arn=self.nlb.arn,
                endpoint_ips=self.data_endpoint_ips,
                endpoints=self.data_endpoints,
                parent=self,
            ))

        # --- PrivateLink endpoint service for consumer accounts -----------
        self.endpoint_service = aws.ec2.VpcEndpointService(
            f"{name}-endpoint-service",
            acceptance_required=True,
            network_load_balancer_arns=[self.nlb.arn],
            allowed_principals=[f"arn:aws:iam::{c.account_id}:root" for c in cfg.consumers],
            tags={"Name": f"{name}-mqtt"},
            opts=child,
        )
        for consumer in cfg.consumers:
            endpoint_id = args.consumer_endpoint_ids.get(consumer.name)
            if endpoint_id:
                aws.ec2.VpcEndpointConnectionAccepter(
                    f"{name}-accept-{consumer.name}",
                    vpc_endpoint_id=endpoint_id,
                    vpc_endpoint_service_id=self.endpoint_service.id,
                    opts=child,
                )

        # --- device access and the custom authorizer ----------------------
        self.device_access = None
        if access is not None:
            self.device_access = DeviceAccess(
                f"{name}-access",
                DeviceAccessArgs(
                    config=access,
                    custom_domain=cfg.custom_domain,
                    certificate_arn=cfg.custom_domain_certificate_arn,
                    region=region,
                    vpc_id=self.vpc.id,
                    vpc_cidr=cfg.gatekeeper_vpc_cidr,
                    subnet_ids=[s.id for s in self.subnets],
                    route_table_ids=[self.route_table.id],
                    nlb_arn=self.nlb.arn,
                    nlb_ips=nlb_ips,
                    endpoint_ips=self.data_endpoint_ips,
                    endpoint_security_group_id=data_sg.id,
                    endpoints=self.data_endpoints,
                    user_data=proxy_user_data_text,
                    connects_per_second=refresh_rate(cfg),
                ),
                opts=after_reservations,
            )
        self.authorizer = None
        if cfg.authorizer.enabled:
            self.authorizer = CustomAuthorizer(
                f"{name}-authorizer",
                CustomAuthorizerArgs(
                    config=cfg.authorizer,
                    stack=cfg.common.stack,
                    region=region,
                    account_id=account,
                    vpc_id=self.vpc.id,
                    subnet_ids=[s.id for s in self.subnets],
                    route_table_ids=[self.route_table.id],
                    data_endpoint_ids=self.data_endpoint_ids,
                    custom_domain=cfg.custom_domain,
                    certificate_arn=cfg.custom_domain_certificate_arn,
                    thing_topic_prefix=cfg.thing_topic_prefix,
                    deployer_role_arn=cfg.common.assume_role_arn,
                    migrating_families=cfg.fleet_provisioning.migrating_families,
                    provisioning_template=cfg.fleet_provisioning.template_name,
                    # The VPC's one DynamoDB gateway endpoint serves the provisioning hook's allow-list too.
                    endpoint_read_table_arns=(
                        (f"arn:aws:dynamodb:{region}:{account}:table/{allow_list_table_name(cfg.common.stack)}",)
                        if cfg.fleet_provisioning.enabled
                        else ()
                    ),
                ),
                opts=after_reservations,
            )
        else:
            pulumi.log.info("authorizer.enabled is false: no custom authorizer", resource=self)

        # --- IoT policy for certificate devices ---------------------------
        self.thing_policy = aws.iot.Policy(
            f"{name}-thing-policy",
            policy=pulumi.Output.all(*self.data_endpoint_ids).apply(
                lambda ids: thing_policy_json(
                    region=region, account_id=account, topic_prefix=cfg.thing_topic_prefix, data_endpoint_ids=ids
                )
            ),
            opts=child,
        )

        self.vpc_id = self.vpc.id
        self.endpoint_service_name = self.endpoint_service.service_name
        zone_ids = {host: zone.zone_id for host, zone in self.zones_by_host.items()}
        self.exports = {
            "accountId": account,
            "region": region,
            "gatekeeperVpcId": self.vpc.id,
            "gatekeeperVpcCidr": cfg.gatekeeper_vpc_cidr,
            "transitGatewayAttachmentId": self.attachment.id,
            "privateZoneIds": zone_ids,
            "dataEndpointHost": self.data_host,
            "dataEndpointIds": self.data_endpoint_ids,
            "dataEndpointIps": self.data_endpoint_ips,
            "credentialsEndpointHost": credentials_host,
            "nlbIps": nlb_ips,
            "endpointServiceName": self.endpoint_service.service_name,
            "endpointServiceId": self.endpoint_service.id,
            "thingPolicyName": self.thing_policy.name,
            "customDomain": cfg.custom_domain,
            "authorizerName": self.authorizer.authorizer_name if self.authorizer else None,
            "credentialsTableName": self.authorizer.table_name if self.authorizer else None,
            "deviceAccessMode": access.mode if access else None,
            # The accounts allowed on the endpoint service: a consumer stack refuses to build an
            # endpoint the service would never accept.
            "consumerAccountIds": [c.account_id for c in cfg.consumers],
        }
        self.register_outputs({k: v for k, v in self.exports.items() if v is not None})
