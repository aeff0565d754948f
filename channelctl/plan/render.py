"""Render a stack of this Pulumi program offline, on Pulumi's mock runtime.

``render_stack`` runs the project's ``__main__.py`` exactly as ``pulumi
preview`` would, with the resource monitor replaced by ``ChannelMocks``: no
engine, no network, no credentials. Every resource the program declares is
recorded with its inputs, parent, provider and dependencies, every log line
the program writes is kept, and the stack's exports are resolved, so the next
stack's ``StackReference`` can be fed with them.

The mocks give each resource the computed outputs a real deployment would
have (IDs, ARNs, endpoint DNS entries, endpoint-service names), derived
deterministically from the resource's name so that renders are repeatable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import runpy
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.sync_await import _sync_await

from channelctl.accounts.facts import Facts
# The render cache; ``RENDER_CACHE`` and ``RenderCache`` are imported from here too.
from channelctl.plan.render_cache import RENDER_CACHE, RenderCache, cached_render  # noqa: F401
# The account's world (zones, where services are offered, quotas), answered from its facts or the
# defaults; the zone functions are imported from here too.
from channelctl.plan.world import (  # noqa: F401
    AWS_SERVICE_ZONE_NUMBERS,
    DEFAULT_SERVICE_QUOTAS,
    ZONE_COUNT,
    AccountWorld,
    AwsRefusal,
    existing_subnet_zone,
    zone_id_of,
    zone_id_prefix,
    zone_name_of,
    zone_rotation,
)

PROVIDER_TYPE_PREFIX = "pulumi:providers:"


@dataclass
class RenderedResource:
    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    parent: str
    provider: str
    dependencies: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    """The resource options that decide how a change is applied: ``deleteBeforeReplace``,
    ``ignoreChanges``, ``replaceOnChanges``, ``protect`` (only those set)."""

    def get(self, key: str, default: Any = None) -> Any:
        return self.state.get(key, self.inputs.get(key, default))


@dataclass
class RenderedStack:
    project: str
    stack: str
    resources: list[RenderedResource]
    exports: dict[str, Any]
    logs: list[tuple[str, str]]
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    quotas: dict[str, float] = field(default_factory=dict)
    """Service Quotas values the program read: ``"<service code>/<quota code>"`` -> value."""

    def of_type(self, type_: str) -> list[RenderedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> RenderedResource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)

    def by_id(self, id_: str) -> RenderedResource | None:
        for r in self.resources:
            if r.id == id_:
                return r
        return None

    def by_urn(self, urn: str) -> RenderedResource | None:
        for r in self.resources:
            if r.urn == urn:
                return r
        return None

    def info(self) -> list[str]:
        return [m for s, m in self.logs if s == "info"]


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# Endpoint services rendered so far (service name -> the AZ IDs of its NLBs),
# kept across renders like the one AWS region every stack deploys into: a
# consumer's look-up answers with the zones of the iot stack's service.
ENDPOINT_SERVICE_ZONE_IDS: dict[str, tuple[str, ...]] = {}


class ChannelMocks(pulumi.runtime.Mocks):
    """Computed outputs for the resource types and data sources the program uses."""

    def __init__(
        self,
        *,
        stack: str,
        account_id: str,
        region: str,
        peers: Mapping[str, Mapping[str, Any]],
        service_quotas: Mapping[tuple[str, str], float] | None = None,
        facts: Facts | None = None,
    ):
        self.stack = stack
        self.account_id = account_id
        self.region = region
        self.peers = peers
        # The account's answers: its facts where they exist, else the defaults (``service_quotas``
        # standing for AWS's default quotas).
        self.world = AccountWorld(account_id, region, facts, service_quotas)
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        # AZ IDs of this render's subnets and load balancers, by ID / ARN.
        self.subnet_zone_ids: dict[str, str] = {}
        self.lb_zone_ids: dict[str, tuple[str, ...]] = {}
        self.quotas: dict[str, float] = {}
        # The first call AWS would refuse for what the account is; the render raises it.
        self.refusal: AwsRefusal | None = None

    # -- resources ---------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if typ == "pulumi:pulumi:StackReference":
            stack_name = inputs.get("name") or name
            outputs = dict(self.peers.get(stack_name, {}))
            return f"{stack_name}", {"name": stack_name, "outputs": outputs, "secretOutputNames": []}
        if typ.startswith(PROVIDER_TYPE_PREFIX):
            return f"{name}-provider-id", inputs
        key = _digest(self.stack, typ, name)
        prefix = _ID_PREFIX.get(typ)
        rid = f"{prefix}-{key}" if prefix else f"{name}-{key[:8]}"
        state = dict(inputs)
        state.setdefault("id", rid)
        # Auto-named resources get their Pulumi name, as the engine would derive one.
        state.setdefault("name", name)
        service = typ.split(":")[1].split("/")[0] if ":" in typ else "x"
        state.setdefault("arn", f"arn:aws:{_ARN_SERVICE.get(service, service)}:{self.region}:{self.account_id}:{typ.split('/')[-1].split(':')[0].lower()}/{rid}")
        shaper = _SHAPERS.get(typ)
        if shaper:
            shaper(self, name, rid, inputs, state)
        return state["id"], state

    # -- invokes -------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs):
        token, inputs = args.token, dict(args.args)
        self.invokes.append((token, inputs))
        region = self.region
        if token == "aws:ec2/getVpcEndpointService:getVpcEndpointService":
            service = inputs.get("serviceName", "")
            zone_ids = None
            if service.startswith("com.amazonaws.vpce."):
                # The iot stack's endpoint service: where its NLBs are, unless the caller's facts read it.
                if service not in ENDPOINT_SERVICE_ZONE_IDS and not self.world.has_service_zones(service):
                    raise ValueError(f"InvalidServiceName: the Vpc Endpoint Service '{service}' does not exist")
                zone_ids = ENDPOINT_SERVICE_ZONE_IDS.get(service, ())
            # Names as the calling account sees them: AWS answers in its own mapping.
            zones = self.world.service_zones(service, zone_ids).value
            return {"serviceName": service, "availabilityZones": zones, "id": service, "serviceType": "Interface"}
        if token == "aws:ec2/getSubnet:getSubnet":
            subnet_id = inputs.get("id", "")
            zone = self.world.existing_subnet_zone(subnet_id)
            return {
                "id": subnet_id,
                "availabilityZone": zone,
                "availabilityZoneId": self.world.zone_id(zone),
                "vpcId": inputs.get("vpcId") or "vpc-existing",
            }
        if token == "aws:iot/getEndpoint:getEndpoint":
            kind = inputs.get("endpointType", "iot:Data-ATS")
            prefix = "a1b2c3d4e5f6g7"
            address = {
                "iot:Data-ATS": f"{prefix}-ats.iot.{region}.amazonaws.com",
                "iot:Data": f"{prefix}.iot.{region}.amazonaws.com",
                "iot:CredentialProvider": f"c1d2e3f4a5b6c7.credentials.iot.{region}.amazonaws.com",
                "iot:Jobs": f"j1k2l3m4n5o6p7.jobs.iot.{region}.amazonaws.com",
            }.get(kind, f"{prefix}.iot.{region}.amazonaws.com")
            return {"endpointAddress": address, "endpointType": kind, "id": address}
        if token == "aws:ssm/getParameter:getParameter":
            return {"name": inputs.get("name"), "value": "ami-0abcdef1234567890", "type": "String", "id": inputs.get("name")}
        if token == "aws:ec2/getPrefixList:getPrefixList":
            return {"id": "pl-68a54001", "name": inputs.get("name"), "cidrBlocks": ["52.94.0.0/22"]}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "arn": f"arn:aws:iam::{self.account_id}:root", "userId": "mock"}
        if token == "aws:servicequotas/getServiceQuota:getServiceQuota":
            service, code = inputs.get("serviceCode", ""), inputs.get("quotaCode", "")
            value = self.world.quota(service, code).value
            if value is None:
                raise KeyError(f"no mock value for Service Quotas {service}/{code}: pass it in service_quotas")
            self.quotas[f"{service}/{code}"] = value
            return {
                "serviceCode": service, "quotaCode": code, "value": value, "defaultValue": value, "adjustable": True,
                "id": f"{service}/{code}",
                "arn": f"arn:aws:servicequotas:{region}:{self.account_id}:{service}/{code}",
            }
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return {"json": json.dumps(inputs), "id": "policy"}
        return {}


_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/vpcEndpointService:VpcEndpointService": "vpce-svc",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "tgw-attach",
    "aws:ec2transitgateway/routeTable:RouteTable": "tgw-rtb",
    "aws:route53/resolverEndpoint:ResolverEndpoint": "rslvr-in",
    
    "aws:ec2/instance:Instance": "i",
    "aws:kms/key:Key": "key",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
}

_ARN_SERVICE = {"ec2transitgateway": "ec2", "route53": "route53", "lb": "elasticloadbalancing"}


def _shape_endpoint(m: ChannelMocks, name, rid, inputs, state):
    ips = [c.get("ipv4") for c in inputs.get("subnetConfigurations") or [] if c.get("ipv4")]
    state["networkInterfaceIds"] = [f"eni-{_digest(rid, str(i))}" for i in range(len(inputs.get("subnetIds") or []))]
    state["dnsEntries"] = [
        {"dnsName": f"{rid}-{_digest(rid)[:8]}.vpce-svc.{m.region}.vpce.amazonaws.com", "hostedZoneId": "Z1YSA3EXCYUU9Z"}
    ]
    state["state"] = "available"
    state["ownerId"] = m.account_id
    state["ipv4s"] = ips


def _shape_zone(m, name, rid, inputs, state):
    rid = "Z" + _digest(m.stack, name, length=20).upper()
    state["id"] = rid
    state["zoneId"] = rid
    state["nameServers"] = []


def _shape_subnet(m, name, rid, inputs, state):
    zone = inputs.get("availabilityZone")
    if zone:
        try:
            state["availabilityZoneId"] = m.world.subnet_zone_id(zone)
        except AwsRefusal as refusal:
            m.refusal = m.refusal or refusal
            raise
        m.subnet_zone_ids[rid] = state["availabilityZoneId"]


def _shape_endpoint_service(m, name, rid, inputs, state):
    # Offered where its NLBs have subnets, as AZ IDs; the ID also covers
    # those zones, so services of differently configured renders never share a name.
    zone_ids = tuple(sorted({z for arn in inputs.get("networkLoadBalancerArns") or [] for z in m.lb_zone_ids.get(arn, ())}))
    rid = f"vpce-svc-{_digest(m.stack, name, *zone_ids)}"
    state["id"] = rid
    state["serviceName"] = f"com.amazonaws.vpce.{m.region}.{rid}"
    state["state"] = "Available"
    state["availabilityZones"] = sorted(n for n in (m.world.zone_name(z) for z in zone_ids) if n is not None)
    ENDPOINT_SERVICE_ZONE_IDS[state["serviceName"]] = zone_ids


def _shape_lb(m, name, rid, inputs, state):
    state["dnsName"] = f"{name}-{_digest(rid)[:8]}.elb.{m.region}.amazonaws.com"
    state["zoneId"] = "Z18D5FSROUN65G"
    state["arn"] = f"arn:aws:elasticloadbalancing:{m.region}:{m.account_id}:loadbalancer/net/{name[:32]}/{_digest(rid)[:16]}"
    state["arnSuffix"] = f"net/{name[:32]}/{_digest(rid)[:16]}"
    subnet_ids = [s.get("subnetId") for s in inputs.get("subnetMappings") or []] + list(inputs.get("subnets") or [])
    m.lb_zone_ids[state["arn"]] = tuple(m.subnet_zone_ids[s] for s in subnet_ids if s in m.subnet_zone_ids)


def _shape_target_group(m, name, rid, inputs, state):
    state["arn"] = f"arn:aws:elasticloadbalancing:{m.region}:{m.account_id}:targetgroup/{name[:32]}/{_digest(rid)[:16]}"
    state["arnSuffix"] = f"targetgroup/{name[:32]}/{_digest(rid)[:16]}"


def _shape_dx_association(m, name, rid, inputs, state):
    state["transitGatewayAttachmentId"] = f"tgw-attach-{_digest(rid, 'dx')}"


def _shape_ram_share(m, name, rid, inputs, state):
    state["arn"] = f"arn:aws:ram:{m.region}:{m.account_id}:resource-share/{_digest(rid, 'share', length=32)}"


def _shape_authorizer(m, name, rid, inputs, state):
    state["arn"] = f"arn:aws:iot:{m.region}:{m.account_id}:authorizer/{inputs.get('name', name)}"


def _shape_lambda(m, name, rid, inputs, state):
    fn = inputs.get("name") or name
    state["arn"] = f"arn:aws:lambda:{m.region}:{m.account_id}:function:{fn}"
    state["invokeArn"] = f"arn:aws:apigateway:{m.region}:lambda:path/2015-03-31/functions/{state['arn']}/invocations"


def _shape_launch_template(m, name, rid, inputs, state):
    # Real versions count up from 1 with every change; a number derived from the
    # content changes exactly when the content does, which is what a comparison of
    # two renders needs to see (a group that references the version is updated).
    content = json.dumps(inputs, sort_keys=True, default=str)
    state["latestVersion"] = 1 + int(_digest(content, length=6), 16)
    state["defaultVersion"] = state["latestVersion"]


_SHAPERS = {
    "aws:ec2/subnet:Subnet": _shape_subnet,
    "aws:ec2/launchTemplate:LaunchTemplate": _shape_launch_template,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _shape_endpoint,
    "aws:route53/zone:Zone": _shape_zone,
    "aws:ec2/vpcEndpointService:VpcEndpointService": _shape_endpoint_service,
    "aws:lb/loadBalancer:LoadBalancer": _shape_lb,
    "aws:directconnect/gatewayAssociation:GatewayAssociation": _shape_dx_association,
    "aws:lb/targetGroup:TargetGroup": _shape_target_group,
    "aws:ram/resourceShare:ResourceShare": _shape_ram_share,
    "aws:iot/authorizer:Authorizer": _shape_authorizer,
    "aws:lambda/function:Function": _shape_lambda,
}


# Event loops Pulumi's runtime opened in the threads that run the mock monitor's calls.
# MockMonitor.RegisterResource, ReadResource and Invoke each call _ensure_event_loop() in the
# executor thread they run in, which opens a loop per thread and never closes it. A loop and
# its self-pipe socket form a reference cycle; left to the garbage collector at interpreter
# exit, the socket may be finalized first and the loop's __del__ then prints
# "Exception ignored in: BaseEventLoop.__del__ ... Invalid file descriptor: -1" to stderr
# (about one run in six of a failing plan). close_runtime_loops() closes them in order.
_thread_loops: dict[int, asyncio.AbstractEventLoop] = {}
_thread_loops_lock = threading.Lock()


def _remember_thread_loop() -> None:
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    with _thread_loops_lock:
        _thread_loops[threading.get_ident()] = loop


def close_runtime_loops() -> None:
    """Close every event loop the mock runtime opened in this process, and its worker threads.

    Call once, when no more stacks will be rendered (the command's end): pending tasks of a
    render that failed are cancelled, the main loop's default executor is shut down (joining the
    threads that ran the monitor's calls), then each of those threads' loops is closed.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    with _thread_loops_lock:
        main_loop = _thread_loops.pop(threading.get_ident(), None)
    if main_loop is not None and not main_loop.is_closed() and not main_loop.is_running():
        pending = [task for task in asyncio.all_tasks(main_loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            main_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        main_loop.run_until_complete(main_loop.shutdown_asyncgens())
        main_loop.run_until_complete(main_loop.shutdown_default_executor())
        main_loop.close()
        # A fresh policy: the next get_event_loop() in this thread opens a new loop, as on a first
        # render (set_event_loop(None) would make it raise instead).
        asyncio.set_event_loop_policy(None)
    with _thread_loops_lock:
        loops = list(_thread_loops.values())
        _thread_loops.clear()
    for loop in loops:
        if not loop.is_closed() and not loop.is_running():
            loop.close()


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that also keeps parent, provider and dependencies."""

    def __init__(self, mocks: ChannelMocks):
        super().__init__(mocks)
        self.meta: dict[str, dict[str, Any]] = {}
        self.inputs: dict[str, dict[str, Any]] = {}
        self.options: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []

    def Invoke(self, request):
        try:
            return super().Invoke(request)
        finally:
            _remember_thread_loop()

    def RegisterResource(self, request):
        try:
            response = super().RegisterResource(request)
        finally:
            _remember_thread_loop()
        urn = response.urn
        if request.type != "pulumi:pulumi:Stack":
            from pulumi.runtime import rpc

            self.inputs[urn] = rpc.deserialize_properties(request.object)
            self.meta[urn] = {
                "parent": request.parent,
                "provider": request.provider,
                "dependencies": list(request.dependencies),
                "type": request.type,
                "name": request.name,
            }
            self.options[urn] = _change_options(request)
            self.order.append(urn)
        return response

    def ReadResource(self, request):
        try:
            response = super().ReadResource(request)
        finally:
            _remember_thread_loop()
        self.meta[response.urn] = {
            "parent": request.parent,
            "provider": request.provider,
            "dependencies": list(request.dependencies),
            "type": request.type,
            "name": request.name,
        }
        self.inputs[response.urn] = {}
        self.order.append(response.urn)
        return response


def _change_options(request) -> dict[str, Any]:
    """The options of a RegisterResource request that decide how the engine applies a change."""
    options: dict[str, Any] = {}
    if request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = True
    if request.protect:
        options["protect"] = True
    if list(request.ignoreChanges):
        options["ignoreChanges"] = sorted(request.ignoreChanges)
    if list(request.replaceOnChanges):
        options["replaceOnChanges"] = sorted(request.replaceOnChanges)
    return options


class _LogCollector(logging.Handler):
    def __init__(self):
        # The SDK's own debug chatter is not the program's log.
        super().__init__(level=logging.INFO)
        self.records: list[tuple[str, str]] = []

    def emit(self, record):
        self.records.append((record.levelname.lower().replace("warning", "warn"), record.getMessage()))


def to_pulumi_config(value: Any) -> str:
    """The string form Pulumi hands a program for a YAML config value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _no_stack_trace():
    """An empty source stack trace, for the engine's optional source positions."""
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def _render_uncached(
    project_dir: Path | str,
    stack: str,
    config: Mapping[str, Any],
    *,
    project: str = "private-mqtt-channel",
    peers: Mapping[str, Mapping[str, Any]] | None = None,
    preview: bool = False,
    service_quotas: Mapping[tuple[str, str], float] | None = None,
    facts: Facts | None = None,
) -> RenderedStack:
    """Run the program of ``project_dir`` for ``stack`` under mocks.

    ``config`` holds the project-namespace keys without prefix, with YAML
    values; ``peers`` maps referenced stack names to their exports;
    ``service_quotas`` the account's default quotas by (service code, quota code)
    (default: ``DEFAULT_SERVICE_QUOTAS``); ``facts`` what the account already is
    (``channelctl discover``), which answers the look-ups where it knows them.
    Exceptions raised by the program (a ``ConfigError``, say) propagate; a call AWS
    would refuse for what the account is raises ``AwsRefusal``.
    """
    project_dir = Path(project_dir).resolve()
    account_id = str(config.get("accountId", "000000000000"))
    region = str(config.get("region", "us-west-2"))
    mocks = ChannelMocks(
        stack=stack, account_id=account_id, region=region, peers=peers or {}, service_quotas=service_quotas,
        facts=facts,
    )
    monitor = RecordingMonitor(mocks)
    logger = logging.getLogger(f"channelctl.plan.render.{stack}")
    logger.propagate = False
    # The SDK's per-resource debug lines are not the program's log (the collector keeps INFO and up):
    # at INFO they are never formatted into records at all.
    logger.setLevel(logging.INFO)
    collector = _LogCollector()
    logger.handlers = [collector]

    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config({f"{project}:{k}": to_pulumi_config(v) for k, v in config.items()})
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor)

    main = project_dir / "__main__.py"
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))

    def program():
        runpy.run_path(str(main), run_name="__main__")

    # As pulumi.runtime.test does: no RPC or output of an earlier render is awaited.
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    # For every resource the SDK walks the Python stack to tell the engine where in the source it was
    # declared (pulumi/runtime/resource.py, _get_stack_trace); the mock monitor never reads it, and
    # the walk is about a tenth of a render. The render leaves it out, and puts it back after.
    stack_trace = getattr(pulumi_resource, "_get_stack_trace", None)
    if stack_trace is not None:
        pulumi_resource._get_stack_trace = _no_stack_trace
    try:
        _remember_thread_loop()  # the loop _sync_await runs on: close_runtime_loops() closes it
        try:
            _sync_await(pulumi.runtime.stack.run_pulumi_func(program))
            root = pulumi.runtime.get_root_resource()
            raw_exports = dict(getattr(root, "outputs", {}) or {})
            exports = _sync_await(pulumi.Output.from_input(raw_exports).future()) if raw_exports else {}
        except Exception:
            # However the runtime wrapped it, what AWS would refuse is the render's answer.
            if mocks.refusal is not None:
                raise mocks.refusal from None
            raise
        if mocks.refusal is not None:
            raise mocks.refusal
    finally:
        if stack_trace is not None:
            pulumi_resource._get_stack_trace = stack_trace
        pulumi_settings.ROOT.set(None)

    resources = []
    for urn in monitor.order:
        reg = monitor.resources.get(urn)
        meta = monitor.meta[urn]
        resources.append(
            RenderedResource(
                urn=urn,
                type=meta["type"],
                name=meta["name"],
                id=reg.id if reg else "",
                inputs=monitor.inputs.get(urn, {}),
                state=dict(reg.state) if reg else {},
                parent=meta["parent"],
                provider=meta["provider"],
                dependencies=meta["dependencies"],
                options=monitor.options.get(urn, {}),
            )
        )
    return RenderedStack(
        project=project,
        stack=stack,
        resources=resources,
        exports=exports or {},
        logs=collector.records,
        invokes=mocks.invokes,
        quotas=dict(mocks.quotas),
    )


def render_stack(
    project_dir: Path | str,
    stack: str,
    config: Mapping[str, Any],
    *,
    project: str = "private-mqtt-channel",
    peers: Mapping[str, Mapping[str, Any]] | None = None,
    preview: bool = False,
    service_quotas: Mapping[tuple[str, str], float] | None = None,
    facts: Facts | None = None,
) -> RenderedStack:
    """Run the program of ``project_dir`` for ``stack`` under mocks (see ``_render_uncached``),
    or answer from ``RENDER_CACHE`` when it is enabled and has rendered the same inputs."""
    peers = peers if peers is not None else {}
    if not RENDER_CACHE.enabled:
        return _render_uncached(project_dir, stack, config, project=project, peers=peers, preview=preview,
                                service_quotas=service_quotas, facts=facts)
    return cached_render(RENDER_CACHE, _render_uncached, ENDPOINT_SERVICE_ZONE_IDS, project_dir, stack, config,
                         project=project, peers=peers, preview=preview, service_quotas=service_quotas, facts=facts)
