"""DeviceAccess: how today's devices reach the custom domain.

- ``tls-proxy``: devices change nothing. NLB TLS listeners on the family
  ports (the custom domain's ACM certificate) forward over TLS to a proxy
  fleet that re-originates TLS to the iot.data endpoints with ALPN ``mqtt``
  and SNI = the custom domain, verifying the server certificate.
- ``tcp-passthrough``: devices send ALPN and SNI themselves; NLB TCP listeners
  on the family ports forward to the iot.data endpoints on 443.
- ``direct``: devices moved to 443; the custom domain resolves to the
  iot.data endpoint IPs and no listener is needed.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components import aws_limits
from components.config import ConfigError, DeviceAccessConfig, IotConfig
from components.endpoint_targets import forward_to_endpoints
from components.private_vpc import ssm_endpoints, ssm_instance_profile
from components.proxy_capacity import (
    DEFAULT_IOT_CONNECTS_PER_SECOND,
    INSTANCE_TYPES,
    authorizer_stage,
    devices_per_instance,
    proxy_stage,
)
from components.proxy_config import (
    ProxyConfigError,
    ProxyFamily,
    ProxySettings,
    ephemeral_ports_per_endpoint,
    render_user_data,
    validate_ca_bundle,
)
from components.proxy_refresh import (
    CONNECTION_TERMINATION,
    DEREGISTRATION_DELAY_S,
    RefreshPreferences,
    staged_preferences,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]
HTTPS_PORT = 443
# TLS 1.3 and 1.2 only, forward-secret suites (ELB security policies).
NLB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Time a new proxy needs to boot, install HAProxy from the AL2023 repositories and pass
# its health check before it counts as in service. A choice, not a measurement (an EC2 boot
# cannot be timed here): the refresh's warm-up and checkpoint delay are at least this, and
# longer when one instance's devices need longer to reconnect (components/proxy_refresh.py).
PROXY_WARMUP_SECONDS = 180


def target_group_name(family: str, port: int, *, unique: str) -> str:
    """An explicit target-group name: auto-naming would append 8 characters to
    the logical name (``<component>-<family>``), past the 32 that
    CreateTargetGroup accepts (aws_limits). ``unique`` (project, stack, VPC
    range, mode) keeps two stacks in one account and region apart; the port is
    in the name so that a changed port replaces the group under a new name."""
    digest = hashlib.sha256(f"{unique}/{family}/{port}".encode()).hexdigest()[:6]
    base = f"{family}-{port}"[: aws_limits.ELB_NAME_MAX - len(digest) - 1].strip("-")
    name = f"{base}-{digest}"
    problem = aws_limits.name_problem(aws_limits.TARGET_GROUP_NAME, name)
    if problem:
        raise ConfigError(f"deviceAccess family {family!r}: {problem}")
    return name


def uses_nlb(access: DeviceAccessConfig | None) -> bool:
    return access is not None and access.mode in ("tls-proxy", "tcp-passthrough")


def proxy_settings(access: DeviceAccessConfig, custom_domain: str, endpoint_ips: Sequence[str]) -> ProxySettings:
    settings = ProxySettings(
        custom_domain=custom_domain,
        families=tuple(ProxyFamily(name=f.name, port=f.port) for f in access.families),
        endpoint_ips=tuple(endpoint_ips),
    )
    # maxconn: what the instance type's memory holds, and never more than the
    # source ports the instance has towards the endpoints.
    ports = ephemeral_ports_per_endpoint(settings) * len(settings.endpoint_ips)
    return dataclasses.replace(
        settings, max_connections=min(devices_per_instance(access.proxy_instance_type), ports)
    )


def read_ca_bundle(access: DeviceAccessConfig, project_dir: Path = PROJECT_DIR) -> str:
    path = project_dir / (access.ca_bundle_file or "")
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(
            f"deviceAccess.caBundleFile {access.ca_bundle_file!r} cannot be read ({exc.strerror}) — "
            "commit the PEM bundle to the project and give its relative path"
        ) from None
    try:
        return validate_ca_bundle("deviceAccess.caBundleFile", text)
    except ProxyConfigError as exc:
        raise ConfigError(str(exc)) from None


def proxy_user_data(access: DeviceAccessConfig, custom_domain: str, endpoint_ips: Sequence[str]) -> str:
    """Validated before any resource exists: a bad setting is a ConfigError."""
    try:
        return render_user_data(
            proxy_settings(access, custom_domain, endpoint_ips), ca_bundle_pem=read_ca_bundle(access)
        )
    except ProxyConfigError as exc:
        raise ConfigError(str(exc)) from None


def nlb_rules(
    access: DeviceAccessConfig | None, *, device_sources: Sequence[str], vpc_cidr: str
) -> tuple[list, list]:
    """Extra NLB security-group rules for the family ports.

    Family ports are admitted only from on-premises and the device VPC; the
    NLB reaches the proxies on the family ports (tls-proxy) or the endpoints
    on 443 (tcp-passthrough, already allowed for the consumer listeners).
    """
    if not uses_nlb(access):
        return [], []
    ingress = [
        aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp", from_port=f.port, to_port=f.port, cidr_blocks=list(device_sources),
            description=aws_limits.sg_description(f"family {f.name} devices"),
        )
        for f in access.families
    ]
    egress = []
    if access.mode == "tls-proxy":
        # Targets are the proxy instances in the gatekeeper subnets; the NLB's
        # own IPs are fixed, the instances' are not, so the subnets' range.
        egress = [
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=p, to_port=p, cidr_blocks=[vpc_cidr], description=f"proxy fleet {p}"
            )
            for p in sorted({f.port for f in access.families} | {ProxySettings.health_port})
        ]
    return ingress, egress


@dataclass(frozen=True, kw_only=True)
class DeviceAccessArgs:
    config: DeviceAccessConfig
    custom_domain: str
    certificate_arn: str | None
    region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: Sequence[pulumi.Input[str]]
    route_table_ids: Sequence[pulumi.Input[str]]
    nlb_arn: pulumi.Input[str]
    nlb_ips: Sequence[str]
    endpoint_ips: Sequence[str]
    endpoint_security_group_id: pulumi.Input[str]
    """The iot.data endpoints' security group: the proxies' egress references it."""
    endpoints: Sequence[pulumi.Resource]
    user_data: str | None = None
    """The proxy's user data, rendered (and so validated) before any resource."""
    connects_per_second: float = DEFAULT_IOT_CONNECTS_PER_SECOND
    """The rate a refresh step's devices reconnect at (``refresh_rate``: the account's IoT Core
    CONNECT quota, or a slower stage of the path): the proxy fleet's instance refresh is staged so
    that the devices each step drops reconnect at it before the next step."""


def refresh_rate(cfg: IotConfig) -> float:
    """The rate the devices a proxy drops reconnect at: the CONNECT quota (capacity.iotConnectsPerSecond),
    or the custom authorizer's or the proxies' handshake rate when slower. The same stages as the plan's
    reconnect storm (components/proxy_capacity.py: measured handshake and decision costs)."""
    rate = float(cfg.capacity.iot_connects_per_second)
    auth = cfg.authorizer
    if auth.enabled and auth.reserved_concurrency:
        rate = min(rate, authorizer_stage(auth.reserved_concurrency, auth.memory_size, auth.unknown_user_hash).per_second)
    access = cfg.device_access
    if access is not None and access.mode == "tls-proxy" and access.proxy_instance_type in INSTANCE_TYPES:
        rate = min(rate, proxy_stage(access.proxy_min_size, access.proxy_instance_type).per_second)
    return rate


def refresh_preferences(access: DeviceAccessConfig, args: DeviceAccessArgs) -> RefreshPreferences:
    """The proxy fleet's staged instance refresh (components/proxy_refresh.py): for the desired
    capacity the group runs, HAProxy's maxconn per instance and the CONNECT quota."""
    per_instance = proxy_settings(access, args.custom_domain, args.endpoint_ips).max_connections
    return staged_preferences(access.proxy_min_size, per_instance, args.connects_per_second, PROXY_WARMUP_SECONDS)


class DeviceAccess(pulumi.ComponentResource):
    listener_ports: list[int]
    """The family ports the NLB listens on (empty in direct mode)."""
    endpoint_target_groups: list[aws.lb.TargetGroup]
    """tcp-passthrough: the family target groups of iot.data endpoint IPs (alarmed per target)."""
    proxy_target_groups: list[aws.lb.TargetGroup]
    """tls-proxy: the family target groups of proxy instances (alarmed per instance)."""

    def __init__(self, name: str, args: DeviceAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:iot:DeviceAccess", name, None, opts)
        access = args.config
        self._provider = opts.provider if opts else None
        self.listener_ports = [f.port for f in access.families] if uses_nlb(access) else []
        self.endpoint_target_groups = []
        self.proxy_target_groups = []

        if access.mode == "direct":
            pulumi.log.info(
                f"deviceAccess.mode direct: {args.custom_domain} resolves to the iot.data endpoint IPs; devices use 443 "
                "with ALPN mqtt and SNI",
                resource=self,
            )
        elif access.mode == "tcp-passthrough":
            for family in access.families:
                self.endpoint_target_groups.append(forward_to_endpoints(
                    f"{name}-{family.name}",
                    aws_name=target_group_name(family.name, family.port, unique=self._unique(args)),
                    listener_name=f"{name}-{family.name}-listener",
                    tag_name=f"{name}-{family.name}",
                    listener_port=family.port,
                    target_port=HTTPS_PORT,
                    vpc_id=args.vpc_id,
                    nlb_arn=args.nlb_arn,
                    endpoint_ips=args.endpoint_ips,
                    endpoints=args.endpoints,
                    parent=self,
                ))
        else:
            self._proxy_fleet(name, args)
        self.register_outputs({"listener_ports": self.listener_ports})

    @staticmethod
    def _unique(args: DeviceAccessArgs) -> str:
        # The mode is part of it: switching modes replaces a family's target
        # group (protocol, target type), and the new one must not take the old
        # one's name while that still exists.
        return f"{pulumi.get_project()}/{pulumi.get_stack()}/{args.vpc_cidr}/{args.config.mode}"

    def _proxy_fleet(self, name: str, args: DeviceAccessArgs) -> None:
        access = args.config
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(provider=self._provider, parent=self)
        health_port = ProxySettings.health_port
        refresh = refresh_preferences(access, args)
        groups = []
        for family in access.families:
            group = aws.lb.TargetGroup(
                f"{name}-{family.name}",
                name=target_group_name(family.name, family.port, unique=self._unique(args)),
                port=family.port,
                protocol="TLS",
                target_type="instance",
                vpc_id=args.vpc_id,
                # Instance targets preserve client IPs by default; off, the
                # proxies see only the NLB's fixed IPs, which is all their
                # security group admits.
                preserve_client_ip="false",
                # A replaced proxy's devices: the NLB stops sending it new ones, then closes the
                # rest while HAProxy still runs, which ends each session at IoT Core at once
                # (components/proxy_refresh.py, DEREGISTRATION_DELAY_S).
                deregistration_delay=DEREGISTRATION_DELAY_S,
                connection_termination=CONNECTION_TERMINATION,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    protocol="HTTP", port=str(health_port), path=ProxySettings.health_path, matcher="200"
                ),
                tags={"Name": f"{name}-{family.name}"},
                opts=child,
            )
            groups.append(group)
            self.proxy_target_groups.append(group)
            aws.lb.Listener(
                f"{name}-{family.name}-listener",
                load_balancer_arn=args.nlb_arn,
                port=family.port,
                protocol="TLS",
                certificate_arn=args.certificate_arn,
                ssl_policy=NLB_TLS_POLICY,
                default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)],
                opts=child,
            )

        # The fleet reaches AL2023's package repositories (S3) and Systems
        # Manager without any route to the internet.
        s3_service = f"com.amazonaws.{args.region}.s3"
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=args.vpc_id,
            service_name=s3_service,
            vpc_endpoint_type="Gateway",
            route_table_ids=list(args.route_table_ids),
            policy=(
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
                f'"Resource":"arn:aws:s3:::al2023-repos-{args.region}-*/*"}}]}}'
            ),
            opts=child,
        )
        s3_prefix_list = aws.ec2.get_prefix_list(name=s3_service, opts=invoke)
        ssm_endpoints(
            name, region=args.region, vpc_id=args.vpc_id, vpc_cidr=args.vpc_cidr, subnet_ids=args.subnet_ids, parent=self
        )
        nlb_sources = [f"{ip}/32" for ip in args.nlb_ips]
        proxy_sg = aws.ec2.SecurityGroup(
            f"{name}-proxy-sg",
            vpc_id=args.vpc_id,
            description="Proxy fleet: family ports and health from the NLB; TLS out to iot.data, S3 repos and SSM",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=p, to_port=p, cidr_blocks=nlb_sources, description=f"NLB {p}"
                )
                for p in sorted({f.port for f in access.families} | {health_port})
            ],
            egress=[
                # One rule referencing the endpoints' group rather than one per
                # endpoint IP, which would pass 60 rules (aws_limits) at scale.
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
                    security_groups=[args.endpoint_security_group_id], description="iot.data endpoints",
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
                    cidr_blocks=[args.vpc_cidr], description="Systems Manager endpoints",
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
                    prefix_list_ids=[s3_prefix_list.id], description="AL2023 package repositories (S3)",
                ),
            ],
            opts=child,
        )
        profile = ssm_instance_profile(f"{name}-proxy", parent=self)
        # Pinned (deviceAccess.amiId, required for tls-proxy): never read from the "latest" parameter
        # at each run, where every new Amazon Linux release would replace the whole fleet.
        template = aws.ec2.LaunchTemplate(
            f"{name}-proxy",
            image_id=access.ami_id,
            instance_type=access.proxy_instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1
            ),
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    associate_public_ip_address="false", security_groups=[proxy_sg.id], device_index=0
                )
            ],
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(encrypted="true", volume_type="gp3"),
                )
            ],
            user_data=base64.b64encode((args.user_data or "").encode()).decode(),
            update_default_version=True,
            opts=child,
        )
        aws.autoscaling.Group(
            f"{name}-proxy",
            min_size=access.proxy_min_size,
            max_size=access.proxy_max_size,
            desired_capacity=access.proxy_min_size,
            vpc_zone_identifiers=list(args.subnet_ids),
            target_group_arns=[g.arn for g in groups],
            # The NLB takes an instance out of service on /healthz; the group
            # replaces only instances that are themselves broken. /healthz is
            # 503 while no iot.data endpoint answers, and an endpoint outage
            # must not make the group recycle the whole fleet.
            health_check_type="EC2",
            health_check_grace_period=PROXY_WARMUP_SECONDS,
            # A concrete version, never "$Latest": the provider starts an instance
            # refresh only when the group's launch template reference changes, and
            # "$Latest" never changes (pulumi-aws Group docs, instance_refresh), so new
            # endpoint IPs or HAProxy settings would never reach running proxies.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            # A new template version replaces every proxy, and each drops its devices: the refresh
            # is staged (components/proxy_refresh.py) so that each step's devices reconnect within
            # the account's CONNECT quota before the next step drops more.
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=refresh.min_healthy,
                    max_healthy_percentage=refresh.max_healthy,
                    instance_warmup=str(refresh.warmup_s),
                    checkpoint_percentages=list(refresh.checkpoints),
                    checkpoint_delay=str(refresh.checkpoint_delay_s),
                    skip_matching=refresh.skip_matching,
                ),
            ),
            tags=[aws.autoscaling.GroupTagArgs(key="Name", value=f"{name}-proxy", propagate_at_launch=True)],
            opts=child,
        )
