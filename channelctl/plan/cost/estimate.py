"""The monthly cost of each planned stack: line items from what it renders and the usage figures.

One function per resource class reads the stack's rendered resources (never its file) and the
usage figures (``components.config.usage``, parsed from the stack's config), and returns lines of
quantity × list price (``prices``). The fleet's traffic (``fleet``) comes from the iot stack and
also drives the network stack's Transit Gateway, Direct Connect and Resolver lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config.usage import UsageConfig, load_usage
from channelctl.plan.checks import PlannedStack
from channelctl.plan.cost import fleet as fl
from channelctl.plan.cost.fleet import GB, HOURS_PER_MONTH, SECONDS_PER_MONTH, Fleet
from channelctl.plan.cost.log_volume import PLATFORM_RECORD_BYTES, authorizer_log_bytes_per_call
from channelctl.plan.cost.prices import Price, PriceTable, PriceTableError, load_table

# NLB capacity units: per NLCU-hour a TCP listener gives 800 new connections/s, 100,000 active
# connections (sampled per minute) or 1 GB; a TLS listener 50 new connections/s, 3,000 active
# connections or 1 GB (Elastic Load Balancing pricing, "Network Load Balancer", LCU details:
# https://aws.amazon.com/elasticloadbalancing/pricing/; the TLS figures as public copies of the page
# quote them: "50 new TLS connections or flows per second, 3,000 active TLS connections or flows
# (sampled per minute), 1 GB per hour").
NLCU = {"TCP": (800, 100_000, 1.0), "TLS": (50, 3_000, 1.0)}
# Assumed: KMS requests per key per month (data-key requests of DynamoDB, CloudWatch Logs and EBS);
# a few dollars at most at any likely figure.
KMS_REQUESTS_PER_KEY = 10_000
# Assumed: alarm notifications per month.
ALARM_NOTIFICATIONS = 1_000
# Assumed: stored CloudWatch Logs are this fraction of the ingested bytes (billed compressed).
LOG_COMPRESSION = 0.2
# Assumed: bytes of one device's credentials item in DynamoDB (name, hash, state).
CREDENTIAL_ITEM_BYTES = 300
# Authorizer wall time beyond the hash (parse, GetItem, policy), seconds; the overhead measured in
# benchmarks/RESULTS.md ("decision overhead", p99 under 1 ms) plus a GetItem round trip, assumed 10 ms.
AUTHORIZER_OVERHEAD_SECONDS = 0.010

LIMITS = (
    "list prices only: no free tier, Savings Plans, Reserved Instances, Enterprise discounts or credits",
    "no tax",
    "no data transfer between Regions or to the internet (the channel has none), and none between "
    "Availability Zones (not modelled)",
    "EBS volumes, snapshots and Device Defender audits are not counted",
    f"the authorizer's log group: its decision and metric lines per call, plus {PLATFORM_RECORD_BYTES} bytes of "
    "Lambda's platform records (assumed); the iot stack's other log groups 5 GB a month (assumed)",
    "a Region missing from the price table is priced at the reference Region's list prices, and each such "
    "line says so (priceRegion)",
    *fl.ASSUMPTIONS,
)


@dataclass(frozen=True)
class Line:
    """One line item: ``quantity`` ``unit`` at ``price`` costs ``monthly`` US dollars a month."""

    stack: str
    account: str
    resource_class: str
    description: str
    quantity: float
    price: Price
    monthly: float
    usage: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "resourceClass": self.resource_class,
            "description": self.description,
            "quantity": round(self.quantity, 3),
            "unit": self.price.unit,
            "unitPrice": self.price.usd,
            "per": self.price.per,
            "tiered": bool(self.price.tiers),
            "monthly": round(self.monthly, 2),
            "priceRegion": self.price.region,
            "source": self.price.source,
            "priceRead": self.price.read,
            "verified": self.price.verified,
            "usage": list(self.usage),
        }


@dataclass
class StackCost:
    name: str
    role: str
    account_id: str
    region: str
    lines: list[Line] = field(default_factory=list)

    @property
    def monthly(self) -> float:
        return sum(line.monthly for line in self.lines)


@dataclass
class ChannelCost:
    stacks: dict[str, StackCost]
    table: PriceTable
    notes: list[str] = field(default_factory=list)

    @property
    def monthly(self) -> float:
        return sum(s.monthly for s in self.stacks.values())

    def accounts(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for s in self.stacks.values():
            totals[s.account_id] = totals.get(s.account_id, 0.0) + s.monthly
        return totals

    def lines(self) -> list[Line]:
        return [line for s in self.stacks.values() for line in s.lines]

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "monthly": round(self.monthly, 2),
            "accounts": {account: round(total, 2) for account, total in self.accounts().items()},
            "stacks": {
                s.name: {"accountId": s.account_id, "region": s.region, "monthly": round(s.monthly, 2),
                         "lines": [line.to_json() for line in s.lines]}
                for s in self.stacks.values()
            },
            "prices": self.table.to_json(),
            "notes": list(self.notes),
            "limits": list(LIMITS),
        }


def estimate(stacks: Mapping[str, PlannedStack], table: PriceTable | None = None) -> ChannelCost:
    """The monthly cost of every planned stack at list prices."""
    table = table or load_table()
    iot = next((s for s in stacks.values() if s.role == "iot"), None)
    fleet = _fleet(iot) if iot is not None else None
    cost = ChannelCost({}, table)
    if fleet is None:
        cost.notes.append("no iot stack in the plan: the fleet's traffic (devices, messages) is not estimated")
    for stack in stacks.values():
        sc = StackCost(stack.name, stack.role, stack.account_id, stack.region)
        usage = load_usage(stack.config.get("usage"), stack.role)
        est = _Estimator(stack, usage, fleet, table, sc.lines)
        est.common()
        getattr(est, stack.role)()
        sc.lines.sort(key=lambda line: -line.monthly)
        cost.stacks[stack.name] = sc
        if stack.region not in table.regions:
            cost.notes.append(f"{stack.name}: no prices for {stack.region} in the table — priced at "
                              f"{table.reference_region} list prices; run `channelctl prices refresh --region {stack.region}`")
    return cost


def _fleet(iot: PlannedStack) -> Fleet:
    usage = load_usage(iot.config.get("usage"), "iot")
    devices = usage.connected_devices
    if devices is None:
        from components.config.iot import IotConfig

        devices = int(iot.config.get("expectedDevices", IotConfig.__dataclass_fields__["expected_devices"].default))
    connects = 0.0
    if _of(iot, "aws:iot/authorizer:Authorizer"):
        connects = SECONDS_PER_MONTH / _disconnect_after(iot)
    return Fleet(devices=devices, usage=usage, connects_per_device=connects,
                 consumers=len(iot.config.get("consumers") or []))


def _disconnect_after(stack: PlannedStack) -> int:
    """The authorizer's session length: IoT Core ends each session after it, and the device reconnects."""
    from components.config.iot_access import AuthorizerConfig

    settings = stack.config.get("authorizer") or {}
    return int(settings.get("disconnectAfterSeconds", AuthorizerConfig().disconnect_after_seconds))


def _of(stack: PlannedStack, *types: str) -> list[Any]:
    return [r for r in stack.rendered.resources if r.type in types]


def _val(r: Any, key: str) -> Any:
    value = r.inputs.get(key)
    return r.state.get(key) if value is None else value


class _Estimator:
    def __init__(self, stack: PlannedStack, usage: UsageConfig, fleet: Fleet | None, table: PriceTable,
                 out: list[Line]) -> None:
        self.stack, self.usage, self.fleet, self.table, self.out = stack, usage, fleet, table, out

    def add(self, resource_class: str, description: str, quantity: float, key: str,
            usage: Iterable[str] = ()) -> None:
        price = self.table.price(self.stack.region, key)
        self.out.append(Line(self.stack.name, self.stack.account_id, resource_class, description, quantity, price,
                             price.cost(quantity), tuple(usage)))

    # Every stack ---------------------------------------------------------------------------
    def common(self) -> None:
        s = self.stack
        endpoints = [r for r in _of(s, "aws:ec2/vpcEndpoint:VpcEndpoint")
                     if str(_val(r, "vpcEndpointType")).lower() == "interface"]
        placements = sum(len(_val(r, "subnetIds") or []) for r in endpoints)
        if placements:
            self.add("interface endpoints", f"{len(endpoints)} endpoints in {placements} zone placements",
                     placements * HOURS_PER_MONTH, "vpce.endpointHours")
        zones = _of(s, "aws:route53/zone:Zone")
        if zones:
            self.add("private hosted zones", f"{len(zones)} zones", len(zones), "route53.hostedZone")
        keys = _of(s, "aws:kms/key:Key")
        if keys:
            self.add("KMS keys", f"{len(keys)} customer managed keys", len(keys), "kms.keyMonth")
            self.add("KMS requests", f"{KMS_REQUESTS_PER_KEY:,} per key (assumed)",
                     len(keys) * KMS_REQUESTS_PER_KEY, "kms.requests")
        self._instances()
        self._logs()
        self._monitoring()

    def _instances(self) -> None:
        s = self.stack
        for r in _of(s, "aws:ec2/instance:Instance"):
            self._instance_line("EC2 application host", r.name, str(_val(r, "instanceType")), 1)
        templates = {t.id: t for t in _of(s, "aws:ec2/launchTemplate:LaunchTemplate")}
        for group in _of(s, "aws:autoscaling/group:Group"):
            spec = _val(group, "launchTemplate") or {}
            template = templates.get(spec.get("id")) or next(iter(templates.values()), None)
            count = int(_val(group, "desiredCapacity") or _val(group, "minSize") or 0)
            if template is not None and count:
                self._instance_line("EC2 proxies", group.name, str(_val(template, "instanceType")), count)

    def _instance_line(self, resource_class: str, name: str, instance_type: str, count: int) -> None:
        key = f"ec2.{instance_type}"
        try:
            self.table.price(self.stack.region, key)
        except PriceTableError:
            raise PriceTableError(f"no price for instance type {instance_type} ({name}) in the price table — "
                                  f"add {key} with its source, or run `channelctl prices refresh`") from None
        self.add(resource_class, f"{count} x {instance_type} ({name})", count * HOURS_PER_MONTH, key)

    def _logs(self) -> None:
        s, u, f = self.stack, self.usage, self.fleet
        groups = _of(s, "aws:cloudwatch/logGroup:LogGroup")
        flow_logs = _of(s, "aws:ec2/flowLog:FlowLog")
        flow_gb = 0.0
        if flow_logs:
            if u.flow_log_gb_per_month is not None:
                flow_gb, why = u.flow_log_gb_per_month, ("usage.flowLogGbPerMonth",)
            elif s.role == "iot" and f is not None:
                flow_gb, why = f.flow_log_gb, ("usage.connectedDevices",)
            else:
                flow_gb, why = 1.0, ("usage.flowLogGbPerMonth (default 1 GB)",)
            self.add("VPC flow logs", f"{len(flow_logs)} flow log(s) to CloudWatch Logs", flow_gb, "logs.vendedGb", why)
        other = [g for g in groups if not any(_val(fl_, "logDestination") == _val(g, "arn") for fl_ in flow_logs)]
        log_gb = 0.0
        if groups:
            if u.log_gb_per_month is not None:
                log_gb, why = u.log_gb_per_month, ("usage.logGbPerMonth",)
            elif s.role == "network" and f is not None and _of(s, "aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig"):
                queries = f.dns_queries(u.dns_queries_per_device_per_hour)
                log_gb, why = queries * fl.QUERY_LOG_RECORD_BYTES / GB, ("usage.dnsQueriesPerDevicePerHour",)
            else:
                log_gb, why = {"iot": 5.0}.get(s.role, 1.0), ("usage.logGbPerMonth (default)",)
                calls = self._authorizer_calls()[1]
                if calls:
                    # Beside the assumed 5 GB of the other groups: what the authorizer writes per call.
                    log_gb += calls * authorizer_log_bytes_per_call() / GB
                    why = ("usage.logGbPerMonth (default)", "usage.connectedDevices")
            if other:
                self.add("CloudWatch Logs", f"{len(other)} log groups besides flow logs", log_gb, "logs.ingestGb", why)
            else:
                log_gb = 0.0
            retention = max((int(_val(g, "retentionInDays") or 0) for g in groups), default=0) or 3653
            months = min(retention, 3653) / 30.4
            stored = (flow_gb + log_gb) * LOG_COMPRESSION * months
            self.add("CloudWatch Logs storage", f"after {retention} days of retention, stored compressed to "
                     f"{LOG_COMPRESSION:.0%} (assumed)", stored, "logs.storageGbMonth")

    def _monitoring(self) -> None:
        s = self.stack
        alarms = _of(s, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarms:
            metrics = sum(_alarm_metrics(a) for a in alarms)
            self.add("CloudWatch alarms", f"{len(alarms)} alarms, {metrics} alarm metrics", metrics,
                     "cloudwatch.alarmMetric")
        dashboards = _of(s, "aws:cloudwatch/dashboard:Dashboard")
        if dashboards:
            self.add("CloudWatch dashboards", f"{len(dashboards)} dashboards", len(dashboards), "cloudwatch.dashboard")
        filters = _of(s, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
        if filters:
            self.add("CloudWatch custom metrics", f"{len(filters)} metric filters", len(filters),
                     "cloudwatch.customMetric")
        if _of(s, "aws:sns/topicSubscription:TopicSubscription"):
            self.add("SNS notifications", f"{ALARM_NOTIFICATIONS:,} alarm e-mails (assumed)", ALARM_NOTIFICATIONS,
                     "sns.email")

    # Per role ------------------------------------------------------------------------------
    def network(self) -> None:
        s, f, u = self.stack, self.fleet, self.usage
        attachments = _of(s, "aws:ec2transitgateway/vpcAttachment:VpcAttachment")
        dx_attachments = [a for a in _of(s, "aws:directconnect/gatewayAssociation:GatewayAssociation")
                          if str(_val(a, "associatedGatewayId") or "").startswith("tgw-")]
        n = len(attachments) + len(dx_attachments)
        if n:
            self.add("Transit Gateway attachments", f"{len(attachments)} VPC, {len(dx_attachments)} Direct Connect "
                     "gateway", n * HOURS_PER_MONTH, "tgw.attachmentHours")
        for conn in _of(s, "aws:directconnect/connection:Connection"):
            speed = str(_val(conn, "bandwidth"))
            key = {"1Gbps": "dx.port1GbpsHours", "10Gbps": "dx.port10GbpsHours", "100Gbps": "dx.port100GbpsHours"}.get(speed)
            if key is None:
                raise PriceTableError(f"no Direct Connect port price for bandwidth {speed} ({conn.name}) — add one "
                                      "to the price table with its source")
            self.add("Direct Connect port", f"{conn.name}, dedicated {speed}", HOURS_PER_MONTH, key)
        resolvers = _of(s, "aws:route53/resolverEndpoint:ResolverEndpoint")
        enis = sum(len(_val(r, "ipAddresses") or []) for r in resolvers)
        if enis:
            self.add("Route 53 Resolver endpoint", f"{enis} ENIs", enis * HOURS_PER_MONTH, "resolver.eniHours")
        if f is None:
            return
        if enis:
            self.add("Route 53 Resolver queries", f"{f.devices:,} devices x {u.dns_queries_per_device_per_hour:g} "
                     "per hour", f.dns_queries(u.dns_queries_per_device_per_hour), "resolver.queries",
                     ("usage.dnsQueriesPerDevicePerHour", "usage.connectedDevices"))
        if dx_attachments:
            self.add("Transit Gateway data", "devices' traffic in over Direct Connect", f.uplink_gb, "tgw.dataGb",
                     _TRAFFIC)
        if _of(s, "aws:directconnect/transitVirtualInterface:TransitVirtualInterface", "aws:directconnect/connection:Connection"):
            self.add("Direct Connect data out", "traffic to the devices", f.downlink_gb, "dx.dataOutGb", _TRAFFIC)

    def iot(self) -> None:
        s, f = self.stack, self.fleet
        for lb in _of(s, "aws:lb/loadBalancer:LoadBalancer"):
            self.add("Network Load Balancer", lb.name, HOURS_PER_MONTH, "nlb.hours")
            self.add("NLB capacity units", *self._nlcu(lb))
        if _of(s, "aws:ec2transitgateway/vpcAttachment:VpcAttachment"):
            self.add("Transit Gateway attachments", "gatekeeper VPC", HOURS_PER_MONTH, "tgw.attachmentHours")
            if f is not None:
                self.add("Transit Gateway data", "traffic back to the devices", f.downlink_gb, "tgw.dataGb", _TRAFFIC)
        if f is None:
            return
        data = [r for r in _of(s, "aws:ec2/vpcEndpoint:VpcEndpoint") if str(_val(r, "serviceName")).endswith(".iot.data")]
        if data:
            # The consumers' applications reach IoT Core through the same endpoints (endpoint service,
            # NLB, iot.data endpoints): their traffic is processed here too.
            self.add("interface endpoint data", "devices' and consumer applications' traffic through the iot.data "
                     "endpoints", f.uplink_gb + f.downlink_gb + f.consumers_gb, "vpce.dataGb",
                     (*_TRAFFIC, "usage.deliveriesPerMessage"))
        self.add("IoT Core connectivity", f"{f.devices:,} devices connected all month", f.connection_minutes,
                 "iot.connectivityMinutes", ("usage.connectedDevices",))
        self.add("IoT Core messaging", "publishes in and out in 5 KB steps, a device publish delivered "
                 f"{f.deliveries_per_message:g} times to consumers' subscriptions, clients' PUBACKs, CONNECTs and "
                 "SUBSCRIBEs",
                 f.metered_messages, "iot.messages",
                 ("usage.messagesPerDevicePerMinute", "usage.messagesToDevicesPerDevicePerMinute", "usage.messageBytes",
                  "usage.messagesToDevicesQos", "usage.deliveriesPerMessage", "usage.consumerQos"))
        rules = f.uplink_messages * f.usage.rules_per_message
        rule_count = len(_of(s, "aws:iot/topicRule:TopicRule"))
        self.add("IoT Core rules", f"{rule_count} topic rules declared; usage.rulesPerMessage {f.usage.rules_per_message:g}",
                 rules, "iot.rulesTriggered", ("usage.rulesPerMessage",))
        if rules:
            self.add("IoT Core rule actions", "one action per rule", rules, "iot.actions", ("usage.rulesPerMessage",))
        self._authorizer()

    def _authorizer(self) -> None:
        s, f = self.stack, self.fleet
        assert f is not None
        functions = _of(s, "aws:lambda/function:Function")
        if not functions or not _of(s, "aws:iot/authorizer:Authorizer"):
            return
        from authorizer import cost as hash_cost
        from authorizer.hashes import DEFAULT_SCRYPT

        refresh, invocations = self._authorizer_calls()
        fn = functions[0]
        memory = int(_val(fn, "memorySize") or 128)
        params = DEFAULT_SCRYPT
        core_seconds = (1 << params.log2_n) * params.r * params.p * hash_cost.SCRYPT_SECONDS_PER_BLOCK
        seconds = core_seconds / hash_cost.cpu_share(memory) + AUTHORIZER_OVERHEAD_SECONDS
        arm = "arm64" in (_val(fn, "architectures") or [])
        self.add("Lambda requests", f"{fn.name}: CONNECTs and refreshes every {refresh} s", invocations,
                 "lambda.requests", ("usage.connectedDevices",))
        self.add("Lambda duration", f"{seconds:.3f} s at {memory} MB per call (scrypt ln={params.log2_n}, measured "
                 "hash cost in benchmarks/RESULTS.md)", invocations * seconds * memory / 1024,
                 "lambda.armGbSeconds" if arm else "lambda.x86GbSeconds", ("usage.connectedDevices",))
        for table in _of(s, "aws:dynamodb/table:Table"):
            # The authorizer reads one credentials item per call, strongly consistent (authorizer/store.py):
            # one read request unit per item up to 4 KB (DynamoDB developer guide, read request units).
            self.add("DynamoDB reads", f"{table.name}: one item per authorizer call", invocations,
                     "dynamodb.readRequests", ("usage.connectedDevices",))
            migrating = self._migrating_devices()
            if migrating:
                # authorizer/migration.py: one UpdateItem on the record at each allowed call of a migrating
                # family's device; an item under 1 KB is one write request unit (DynamoDB developer guide).
                self.add("DynamoDB writes", f"{table.name}: {migrating:,} migrating devices stamp each login",
                         invocations * migrating / max(f.devices, 1), "dynamodb.writeRequests",
                         ("usage.migratingDevices",))
            stored = f.devices * CREDENTIAL_ITEM_BYTES / GB
            self.add("DynamoDB storage", f"{f.devices:,} credentials of {CREDENTIAL_ITEM_BYTES} bytes (assumed)",
                     stored, "dynamodb.storageGbMonth", ("usage.connectedDevices",))
            if (_val(table, "pointInTimeRecovery") or {}).get("enabled"):
                self.add("DynamoDB backups", "point-in-time recovery", stored, "dynamodb.pitrGbMonth")

    def _authorizer_calls(self) -> tuple[int, float]:
        """The policy refresh interval and the authorizer's calls a month (0 without an authorizer)."""
        from components.config.iot_access import AuthorizerConfig

        s, f = self.stack, self.fleet
        settings = s.config.get("authorizer") or {}
        refresh = int(settings.get("refreshAfterSeconds", AuthorizerConfig().refresh_after_seconds))
        if f is None or not _of(s, "aws:lambda/function:Function") or not _of(s, "aws:iot/authorizer:Authorizer"):
            return refresh, 0.0
        # IoT Core calls the authorizer at each CONNECT and again every refreshAfterSeconds of a session
        # (IoT developer guide, custom authentication: the returned policy is cached that long).
        return refresh, f.devices * (SECONDS_PER_MONTH / refresh + SECONDS_PER_MONTH / _disconnect_after(s))

    def _migrating_devices(self) -> int:
        f = self.fleet
        assert f is not None
        if not (self.stack.config.get("fleetProvisioning") or {}).get("migratingFamilies"):
            return 0
        return f.devices if f.usage.migrating_devices is None else min(f.usage.migrating_devices, f.devices)

    def _nlcu(self, lb: Any) -> tuple[str, float, str, tuple[str, ...]]:
        s, f = self.stack, self.fleet
        listeners = [r for r in _of(s, "aws:lb/listener:Listener") if _val(r, "loadBalancerArn") in (lb.id, lb.state.get("arn"))]
        protocol = "TLS" if any(str(_val(r, "protocol")) == "TLS" for r in listeners) else "TCP"
        new_per_s, active_per, gb_per_hour = NLCU[protocol]
        devices = f.devices if f is not None and s.rendered.exports.get("deviceAccessMode") in ("tls-proxy", "tcp-passthrough") else 0
        traffic = (f.uplink_gb + f.downlink_gb) if devices and f is not None else 0.0
        disconnect = int((s.config.get("authorizer") or {}).get("disconnectAfterSeconds", 86_400))
        units = max(devices / disconnect / new_per_s, devices / active_per, traffic / HOURS_PER_MONTH / gb_per_hour)
        return (f"{lb.name}: {devices:,} {protocol} connections, {units:.1f} NLCU", units * HOURS_PER_MONTH,
                "nlb.nlcuHours", ("usage.connectedDevices",))

    def consumer(self) -> None:
        s, u, f = self.stack, self.usage, self.fleet
        service = [r for r in _of(s, "aws:ec2/vpcEndpoint:VpcEndpoint") if ".vpce." in str(_val(r, "serviceName"))]
        if service:
            if u.consumer_gb_per_month is not None:
                gb, why = u.consumer_gb_per_month, ("usage.consumerGbPerMonth",)
            elif f is not None:
                gb, why = f.consumer_gb(), ("usage.deliveriesPerMessage", *_TRAFFIC)
            else:
                gb, why = 10.0, ("usage.consumerGbPerMonth (default 10 GB)",)
            self.add("interface endpoint data", "applications' traffic to the channel", gb, "vpce.dataGb", why)


_TRAFFIC = ("usage.connectedDevices", "usage.messagesPerDevicePerMinute", "usage.messageBytes",
            "usage.messagesToDevicesPerDevicePerMinute")


def _alarm_metrics(alarm: Any) -> int:
    """Metrics CloudWatch bills for one alarm: an anomaly-detection alarm 3, a metric-math alarm each
    metric it reads, else 1 (CloudWatch pricing, "Alarms")."""
    queries = _val(alarm, "metricQueries") or []
    if _val(alarm, "thresholdMetricId"):
        return 3
    if queries:
        return max(1, sum(1 for q in queries if q.get("metric")))
    return 1
