"""Role dispatch: one top component per stack, fed by upstream exports."""

from __future__ import annotations

from typing import Any

import pulumi

from components.config import (
    PRIVATELINK_REGION_RULE,
    SAME_ORGANIZATION_RULE,
    TGW_REGION_RULE,
    ConfigError,
    ConsumerConfig,
    IotConfig,
    NetworkConfig,
    StackConfig,
    validate_disjoint,
)
from components.consumer_endpoint import (
    ConsumerEndpoint,
    ConsumerEndpointArgs,
    IotInputs,
)
from components.device_access import proxy_settings
from components.fleet_monitoring import FleetMonitoring, FleetMonitoringArgs
from components.device_advisor import DeviceAdvisor, DeviceAdvisorArgs
from components.fleet_provisioning import FleetProvisioning, FleetProvisioningArgs
from components.gatekeeper_vpc import GatekeeperVpc, GatekeeperVpcArgs, NetworkInputs
from components.network_evidence import NetworkEvidence, NetworkEvidenceArgs
from components.private_iot_channel import PrivateIotChannel, PrivateIotChannelArgs
from components.providers import build_native_provider, build_provider
from components.references import UpstreamStack


def refuse_other_region(own_region: str, key: str, upstream: UpstreamStack, rule: str) -> None:
    """Refuse an upstream stack that exported a different Region (an older export without one passes)."""
    exported = upstream.get("region")
    if exported and exported != own_region:
        raise ConfigError(
            f"region {own_region} differs from the region {exported} exported by {key} {upstream.stack_name} — "
            f"{rule}: deploy both stacks to one region"
        )


def build_stack(config: StackConfig) -> dict[str, Any]:
    provider = build_provider(config.common)
    opts = pulumi.ResourceOptions(provider=provider)
    if isinstance(config, NetworkConfig):
        return _network(config, opts)
    if isinstance(config, IotConfig):
        return _iot(config, opts)
    return _consumer(config, opts)


def _network(config: NetworkConfig, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    attachment_id = None
    zones: dict[str, str] = {}
    if config.iot_stack:
        iot = UpstreamStack("iot-stack", config.iot_stack)
        refuse_other_region(config.common.region, "iotStack", iot, TGW_REGION_RULE)
        exported_account = iot.get("accountId")
        if exported_account and exported_account != config.iot_account_id:
            raise ConfigError(
                f"iotAccountId {config.iot_account_id} differs from the accountId {exported_account} exported by "
                f"iotStack {config.iot_stack} — the Transit Gateway is shared with iotAccountId: set it to "
                f"{exported_account}, or point iotStack at the iot stack of account {config.iot_account_id}"
            )
        exported_cidr = iot.get("gatekeeperVpcCidr")
        if exported_cidr and exported_cidr != config.gatekeeper_vpc_cidr:
            raise ConfigError(
                f"gatekeeperVpcCidr {config.gatekeeper_vpc_cidr} differs from the iot stack's export "
                f"gatekeeperVpcCidr {exported_cidr} — set the same range in both stacks"
            )
        attachment_id = iot.get("transitGatewayAttachmentId")
        zones = dict(iot.get("privateZoneIds") or {})
    else:
        pulumi.log.info(
            "iotStack is not set: phase 2 (accept the gatekeeper attachment, associate the IoT account's "
            "private zones) is skipped — set iotStack after the iot stack's first update"
        )
    channel = PrivateIotChannel(
        "channel",
        PrivateIotChannelArgs(config=config, gatekeeper_attachment_id=attachment_id, private_zone_ids=zones),
        opts=opts,
    )
    _evidence(config, opts, channel, vpcs={"device": channel.vpc_id}, resolver_vpc_id=channel.vpc_id)
    return channel.exports


def _iot(config: IotConfig, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    network = UpstreamStack("network-stack", config.network_stack)
    # The iot stack cannot exist without the network stack's Transit Gateway.
    network.require(
        ["accountId", "transitGatewayId", "resourceShareArn", "deviceVpcId", "deviceVpcCidr", "onPremCidrs"],
        key="networkStack",
        step="step 1",
    )
    refuse_other_region(config.common.region, "networkStack", network, TGW_REGION_RULE)
    shared_inside = network.get("sameOrganization")
    if shared_inside is not None and bool(shared_inside) != config.same_organization:
        raise ConfigError(
            f"sameOrganization {str(config.same_organization).lower()} differs from the sameOrganization "
            f"{str(bool(shared_inside)).lower()} exported by networkStack {config.network_stack} — "
            f"{SAME_ORGANIZATION_RULE}: set the same value in both stacks"
        )
    shared_with = network.get("iotAccountId")
    if shared_with and shared_with != config.common.account_id:
        raise ConfigError(
            f"accountId {config.common.account_id} is not the account networkStack {config.network_stack} shares its "
            f"Transit Gateway with (its iotAccountId is {shared_with}) — set iotAccountId {config.common.account_id} "
            f"in the network stack and update it first, or point networkStack at this account's network stack"
        )
    inputs = NetworkInputs(
        account_id=network.get("accountId"),
        transit_gateway_id=network.get("transitGatewayId"),
        resource_share_arn=network.get("resourceShareArn"),
        device_vpc_id=network.get("deviceVpcId"),
        device_vpc_cidr=network.get("deviceVpcCidr"),
        on_prem_cidrs=tuple(network.get("onPremCidrs")),
        # Optional: empty before the network stack's step 3; absent from a
        # network stack deployed by an older program.
        accepted_attachment_ids=(
            None
            if network.get("acceptedTransitGatewayAttachmentIds") is None
            else tuple(network.get("acceptedTransitGatewayAttachmentIds"))
        ),
    )
    consumer_endpoints: dict[str, str] = {}
    for consumer in config.consumers:
        if not consumer.stack:
            pulumi.log.info(
                f"consumers[{consumer.name}].stack is not set: its endpoint connection is not accepted in this "
                "update — set it after the consumer stack's first update"
            )
            continue
        ref = UpstreamStack(f"consumer-{consumer.name}-stack", consumer.stack)
        endpoint_id = ref.get("consumerEndpointId")
        exported_account = ref.get("accountId")
        if exported_account and exported_account != consumer.account_id:
            raise ConfigError(
                f"consumers[{consumer.name}].accountId {consumer.account_id} differs from stack {consumer.stack}'s "
                f"accountId {exported_account} — point the entry at the right stack"
            )
        exported_cidr = ref.get("consumerVpcCidr")
        if consumer.vpc_cidr and exported_cidr and exported_cidr != consumer.vpc_cidr:
            raise ConfigError(
                f"consumers[{consumer.name}].vpcCidr {consumer.vpc_cidr} differs from stack {consumer.stack}'s "
                f"consumerVpcCidr {exported_cidr} — set the consumer VPC's range in the entry"
            )
        if endpoint_id:
            consumer_endpoints[consumer.name] = endpoint_id
        else:
            pulumi.log.info(
                f"consumer stack {consumer.stack} has not exported consumerEndpointId yet: "
                f"the connection of consumer {consumer.name} is not accepted in this update"
            )
    gatekeeper = GatekeeperVpc(
        "gatekeeper",
        GatekeeperVpcArgs(config=config, network=inputs, consumer_endpoint_ids=consumer_endpoints),
        opts=opts,
    )
    evidence = _evidence(
        config, opts, gatekeeper, vpcs={"gatekeeper": gatekeeper.vpc_id},
        # The alarm topic shares the stack's key: CloudWatch alarms and IoT Core publish to it,
        # and EventBridge does for the credentials key's change alarm.
        key_users=("cloudwatch.amazonaws.com", "iot.amazonaws.com"),
        eventbridge_publishes=gatekeeper.authorizer is not None,
    )
    exports = dict(gatekeeper.exports)
    exports.update(_fleet_provisioning(config, opts, gatekeeper))
    if evidence is not None:
        monitoring = _fleet_monitoring(config, opts, gatekeeper, evidence)
        exports["alarmTopicArn"] = monitoring.topic.arn
    return exports


def _fleet_provisioning(config: IotConfig, opts: pulumi.ResourceOptions, gatekeeper: GatekeeperVpc) -> dict[str, Any]:
    """Certificate devices provisioned through the gatekeeper and the Device Advisor role, when asked for."""
    fleet, common = config.fleet_provisioning, config.common
    exports: dict[str, Any] = {}
    under_gatekeeper = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=gatekeeper))
    if fleet.enabled or fleet.jitp is not None:
        provisioning = FleetProvisioning(
            "provisioning",
            FleetProvisioningArgs(
                config=fleet, stack=common.stack, region=common.region, account_id=common.account_id,
                vpc_id=gatekeeper.vpc_id, subnet_ids=[s.id for s in gatekeeper.subnets],
                route_table_ids=[gatekeeper.route_table.id], data_endpoint_ids=gatekeeper.data_endpoint_ids,
                thing_policy_name=gatekeeper.thing_policy.name,
                log_retention_days=common.monitoring.log_retention_days,
                dynamodb_endpoint_shared=gatekeeper.authorizer is not None,
            ),
            opts=under_gatekeeper,
        )
        exports.update({
            "provisioningTemplateName": provisioning.template_name,
            "claimPolicyName": provisioning.claim_policy_name,
            "provisioningAllowListTable": provisioning.allow_list_table,
            "jitpTemplateName": provisioning.jitp_template_name,
        })
    if fleet.device_advisor:
        advisor = DeviceAdvisor(
            "device-advisor",
            DeviceAdvisorArgs(region=common.region, account_id=common.account_id,
                              thing_topic_prefix=config.thing_topic_prefix),
            opts=under_gatekeeper,
        )
        exports.update({
            "deviceAdvisorRoleArn": advisor.role_arn,
            "deviceAdvisorPassRolePolicy": advisor.pass_role_policy,
            "deviceAdvisorQualificationPolicy": advisor.device_permissions_policy,
        })
    return {k: v for k, v in exports.items() if v is not None}


def _consumer(config: ConsumerConfig, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    iot = UpstreamStack("iot-stack", config.iot_stack)
    iot.require(["endpointServiceName", "dataEndpointHost", "gatekeeperVpcCidr"], key="iotStack", step="step 2")
    refuse_other_region(config.common.region, "iotStack", iot, PRIVATELINK_REGION_RULE)
    allowed = iot.get("consumerAccountIds")
    if allowed is not None and config.common.account_id not in allowed:
        raise ConfigError(
            f"accountId {config.common.account_id} is not among the consumer accounts iotStack {config.iot_stack} "
            f"allows on its endpoint service ({', '.join(allowed) or 'none'}) — add the account to the iot stack's "
            f"consumers and update that stack first"
        )
    validate_disjoint([
        ("vpcCidr" if not config.existing_vpc else "existingVpc.vpcCidr", config.effective_vpc_cidr),
        (f"gatekeeperVpcCidr (exported by {config.iot_stack})", iot.get("gatekeeperVpcCidr")),
    ])
    endpoint = ConsumerEndpoint(
        "consumer",
        ConsumerEndpointArgs(
            config=config,
            iot=IotInputs(
                endpoint_service_name=iot.get("endpointServiceName"),
                data_endpoint_host=iot.get("dataEndpointHost"),
                custom_domain=iot.get("customDomain"),
            ),
        ),
        opts=opts,
    )
    _evidence(config, opts, endpoint, vpcs={} if config.existing_vpc else {"consumer": endpoint.vpc_id})
    return endpoint.exports


def _evidence(
    config: StackConfig,
    opts: pulumi.ResourceOptions,
    top: pulumi.ComponentResource,
    *,
    vpcs: dict[str, Any],
    resolver_vpc_id: Any = None,
    key_users: tuple[str, ...] = (),
    eventbridge_publishes: bool = False,
) -> NetworkEvidence | None:
    """The stack's flow logs (and Resolver query log), under its one top component."""
    common = config.common
    if not common.monitoring.enabled:
        pulumi.log.warn("monitoring.enabled is false: no flow logs, no IoT logging, no alarms, no Device Defender")
        return None
    return NetworkEvidence(
        "evidence",
        NetworkEvidenceArgs(
            monitoring=common.monitoring, account_id=common.account_id, region=common.region,
            vpcs=vpcs, resolver_vpc_id=resolver_vpc_id, key_users=key_users,
            deployer_role_arn=common.assume_role_arn, eventbridge_publishes=eventbridge_publishes,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=top)),
    )


def _fleet_monitoring(
    config: IotConfig, opts: pulumi.ResourceOptions, gatekeeper: GatekeeperVpc, evidence: NetworkEvidence
) -> FleetMonitoring:
    common, access = config.common, gatekeeper.device_access
    endpoint_groups = list(gatekeeper.endpoint_target_groups) + (list(access.endpoint_target_groups) if access else [])
    proxy_groups = list(access.proxy_target_groups) if access else []
    fleet = config.device_access
    return FleetMonitoring(
        "monitoring",
        FleetMonitoringArgs(
            monitoring=common.monitoring,
            account_id=common.account_id,
            region=common.region,
            key=evidence.key,
            vpc_id=gatekeeper.vpc_id,
            data_endpoint_ids=gatekeeper.data_endpoint_ids,
            nlb_arn_suffix=gatekeeper.nlb.arn_suffix,
            endpoint_target_group_suffixes=[g.arn_suffix for g in endpoint_groups],
            # Every endpoint target group holds every iot.data endpoint IP once.
            endpoint_targets=len(endpoint_groups) * len(gatekeeper.data_endpoint_ips),
            proxy_target_group_suffixes=[g.arn_suffix for g in proxy_groups],
            # HAProxy's maxconn as the fleet renders it (what the instance type's memory holds).
            proxy_max_connections=(
                proxy_settings(fleet, config.custom_domain, gatekeeper.data_endpoint_ips).max_connections
                if (fleet and proxy_groups) else 0
            ),
            connect_quota_per_second=config.capacity.iot_connects_per_second,
            proxy_min_size=fleet.proxy_min_size if (fleet and proxy_groups) else 0,
            authorizer_function_name=gatekeeper.authorizer.function_name if gatekeeper.authorizer else None,
            credentials_key_arn=gatekeeper.authorizer.key_arn if gatekeeper.authorizer else None,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=gatekeeper)),
        native_provider=build_native_provider(common),
    )
