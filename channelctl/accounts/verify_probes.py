"""``channelctl verify``'s probes: ``authorizer`` (the custom authorizer admits the operator's canary
device and refuses a wrong password) and ``reachability`` (Reachability Analyzer proves the paths).

``authorizer`` calls IoT TestInvokeAuthorizer twice: it runs the authorizer Lambda as a CONNECT would,
so the wrong password counts one failure on the canary's record (the lockout's window,
``MAX_FAILED_ATTEMPTS`` in ``LOCKOUT_SECONDS``, clears it; ``channelctl devices unlock`` too). The
password is never printed, logged or put into a finding.

``reachability`` creates Reachability Analyzer paths and analyses — objects of the analyzer, not
infrastructure, billed per analysis by AWS — and deletes every one it created, whatever happens:

- network stack: the device VPC's Transit Gateway attachment -> each iot.data endpoint network
  interface, tcp 8883 and 443. The interfaces belong to the iot account (read with the iot stack's
  provider settings).
- consumer stack: the consumer's application instance (else its endpoint) -> the channel's endpoint
  service (the iot account's), tcp 8883 and 443.

Across accounts (AWS Reachability Analyzer guide, "Cross-account analyses"; EC2 API reference,
CreateNetworkInsightsPath, EnableReachabilityAnalyzerOrganizationSharing): a path may join resources
of different accounts of one AWS Organization only when trusted access for Reachability Analyzer is on
(EnableReachabilityAnalyzerOrganizationSharing, from the management account, deploys the role
IAMRoleForReachabilityAnalyzerCrossAccountResourceAccess to member accounts), and only a user in the
management account or in a registered delegated administrator account may create such a path; a
resource of another account is named by its ARN. Both paths above cross accounts and verify runs them
from the stack's own account, so that account must be the management account or a registered delegated
administrator; from a plain member account the path is refused or the analysis fails, and the check
fails saying so (register the account, or pass --no-reachability). Not tried against AWS here: how a
refusal reads (error code or analysis status) is not documented, so both are handled.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from channelctl.accounts.verify_aws import (
    AUTHORIZER,
    REACHABILITY,
    AccountError,
    CallFailed,
    Target,
    name_tag,
    partition_of,
    result_not_run,
)
from channelctl.plan.checks import CheckResult, endpoint_kind, is_interface
from channelctl.plan.checks.deployable import T_IOT_DOMAIN
from channelctl.plan.checks.model import (
    DATA_PORTS,
    T_ENDPOINT,
    T_ENDPOINT_SERVICE,
    T_INSTANCE,
    T_IOT_AUTHORIZER,
    T_TGW_ATTACHMENT,
    Findings,
)

DEFAULT_PASSWORD_ENV = "CHANNEL_CANARY_PASSWORD"


@dataclass(frozen=True)
class Canary:
    """The operator's canary device. The password stays out of repr and of every message."""

    user: str
    client_id: str
    password_env: str
    password: str = field(repr=False)

    def scrub(self, text: str) -> str:
        """``text`` with the password (as given or base64, as IoT carries it) replaced."""
        for secret in (self.password, base64.b64encode(self.password.encode()).decode()):
            if secret:
                text = text.replace(secret, "***")
        return text


# -- authorizer ------------------------------------------------------------------------------------

def check_authorizer(t: Target, canary: Canary | None) -> CheckResult:
    authorizers = t.res(T_IOT_AUTHORIZER)
    if not authorizers:
        return result_not_run(AUTHORIZER, f"stack {t.stack.name} (role {t.stack.role}) declares no custom authorizer; "
                                          "the iot stack's is tested by `channelctl verify <iot stack> --canary-user NAME`")
    if canary is None:
        return result_not_run(AUTHORIZER, "pass --canary-user NAME (its password in the environment variable "
                                          f"${DEFAULT_PASSWORD_ENV}, or the one --canary-password-env names) to test "
                                          "the authorizer with TestInvokeAuthorizer")
    f = Findings()
    authorizer = str(authorizers[0].get("name"))
    label = authorizers[0].label
    domains = [d.get("domainName") for d in t.res(T_IOT_DOMAIN) if d.get("domainName")]
    who = f"canary {canary.user} (client ID {canary.client_id})"

    def invoke(password: str) -> dict[str, Any] | None:
        params: dict[str, Any] = {
            "authorizerName": authorizer,
            "mqttContext": {"username": canary.user, "password": password.encode(), "clientId": canary.client_id},
        }
        if domains:
            params["tlsContext"] = {"serverName": domains[0]}
        try:
            return t.account.call("iot", "TestInvokeAuthorizer", **params)
        except CallFailed as exc:
            f.bad(canary.scrub(f"{label}: TestInvokeAuthorizer for {who} failed: {exc} — the authorizer's Lambda "
                               f"logs say why (function {_function(t)})"), label)
            return None

    right = invoke(canary.password)
    if right is not None:
        allowed, why = _allows_connect(right.get("policyDocuments") or [])
        if not right.get("isAuthenticated"):
            f.bad(f"{label}: authorizer {authorizer} denies {who} with the password in ${canary.password_env} — check "
                  f"the device record (`channelctl devices` lists, unlocks and rotates it), the password in "
                  f"${canary.password_env} and the authorizer's logs (function {_function(t)})", label)
        elif not allowed:
            f.bad(f"{label}: authorizer {authorizer} authenticates {who} but its policies do not allow "
                  f"iot:Connect ({why}) — the device cannot connect; check the authorizer's policy builder and the "
                  "device's family", label)
        else:
            f.ok(f"{label}: {who} with the right password: isAuthenticated, principal "
                 f"{right.get('principalId')}, {why}, disconnect after {right.get('disconnectAfterInSeconds')} s, "
                 f"refresh after {right.get('refreshAfterInSeconds')} s", label)
    wrong = invoke(_wrong(canary.password))
    if wrong is not None:
        if wrong.get("isAuthenticated"):
            f.bad(f"{label}: authorizer {authorizer} admits {who} with a WRONG password — it must deny; take the "
                  "channel out of service and read the authorizer's code and logs", label)
        else:
            f.ok(f"{label}: {who} with a wrong password: denied (counted once toward the lockout)", label)
    summary = (f"authorizer {authorizer} admits {who} with the right password (iot:Connect allowed) and denies a "
               "wrong one (TestInvokeAuthorizer)")
    return f.result(AUTHORIZER, summary)


def _wrong(password: str) -> str:
    """A password that differs from the canary's."""
    return password + "-not-the-password" if password else "not-the-password"


def _function(t: Target) -> str:
    return str(next((a.get("authorizerFunctionArn") for a in t.res(T_IOT_AUTHORIZER)), "")).rsplit(":", 1)[-1]


def _allows_connect(documents: list[str]) -> tuple[bool, str]:
    """Whether the policies allow iot:Connect (and deny it nowhere), with a few words on why."""
    allows = denies = 0
    for document in documents:
        try:
            policy = json.loads(document)
        except (TypeError, ValueError):
            continue
        statements = policy.get("Statement") if isinstance(policy, dict) else None
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, dict):
                continue
            actions = statement.get("Action")
            actions = [actions] if isinstance(actions, str) else actions or []
            if any(str(a).lower() in ("iot:connect", "iot:*", "*") for a in actions):
                if statement.get("Effect") == "Allow":
                    allows += 1
                elif statement.get("Effect") == "Deny":
                    denies += 1
    if denies:
        return False, f"{denies} statement(s) deny it"
    if not allows:
        return False, f"{len(documents)} policy document(s), none allows it"
    return True, f"iot:Connect allowed by {allows} statement(s) of {len(documents)} policy document(s)"


# -- reachability ----------------------------------------------------------------------------------

# Seconds between two reads of running analyses; an analysis takes from seconds to a few minutes.
POLL_SECONDS = 5.0
DEFAULT_TIMEOUT_SECONDS = 300.0
CREATED_BY = "channelctl-verify"


@dataclass(frozen=True)
class PathSpec:
    """One path to analyse: what it proves, source and destination (ID, or ARN in another account), port."""

    what: str
    source: str
    destination: str
    port: int
    label: str


def check_reachability(t: Target, *, enabled: bool = True, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                       sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic) -> CheckResult:
    if not enabled:
        return result_not_run(REACHABILITY, "--no-reachability")
    build = {"network": _device_paths, "consumer": _consumer_paths}.get(t.stack.role)
    if build is None:
        names = [s.name for s in t.channel.stacks.values() if s.role in ("network", "consumer")]
        return result_not_run(REACHABILITY, f"stack {t.stack.name} (role {t.stack.role}) has no path of its own to "
                                            "prove: the device path is analysed from the network stack's account, "
                                            "each consumer's from its own (`channelctl verify` on "
                                            f"{', '.join(names) or 'those stacks'})")
    f = Findings()
    try:
        specs = build(t, f)
    except (CallFailed, AccountError) as exc:
        f.bad(f"cannot find the path's ends: {exc} — pass --no-reachability to skip this check")
        specs = []
    if specs:
        _analyse(t, f, specs, timeout=timeout, sleep=sleep, clock=clock)
    elif not f.problems:
        f.bad(f"stack {t.stack.name}: no path to analyse was found in the plan")
    summary = (f"Reachability Analyzer finds a path for all {len(specs)} (source, destination, port) of stack "
               f"{t.stack.name}; the paths and analyses it created are deleted")
    return f.result(REACHABILITY, summary)


def _arn(account: str, region: str, kind: str, rid: str) -> str:
    return f"arn:{partition_of(region)}:ec2:{region}:{account}:{kind}/{rid}"


def _device_paths(t: Target, f: Findings) -> list[PathSpec]:
    """The device VPC's Transit Gateway attachment -> every iot.data endpoint interface, 8883 and 443."""
    sources = []
    for res in t.res(T_TGW_ATTACHMENT):
        found = [a for a in t.tgw_vpc_attachments() if t.owned(a, name_tag(res)) and a.get("State") != "deleted"]
        if len(found) == 1:
            sources.append((res, found[0]["TransitGatewayAttachmentId"]))
        else:
            f.bad(f"{res.label}: the device VPC's Transit Gateway attachment is not found: no source to analyse from",
                  res.label)
    iot_stack = t.stack_of_role("iot")
    if iot_stack is None or not sources:
        if iot_stack is None:
            f.bad("the plan has no single iot stack: no iot.data endpoint to analyse to")
        return []
    peer = Target(channel=t.channel, stack=iot_stack, account=t.open_peer(iot_stack), open_peer=t.open_peer)
    specs = []
    for res in t.channel.endpoints(iot_stack, "data"):
        if not is_interface(res):
            continue
        endpoint = peer.endpoint(res)
        if endpoint is None:
            f.bad(f"{res.label}: not found in account {iot_stack.account_id}: no destination to analyse to", res.label)
            continue
        for eni, ip in sorted(peer.eni_ips(endpoint.get("NetworkInterfaceIds") or []).items()):
            destination = _arn(iot_stack.account_id, peer.account.region, "network-interface", eni)
            for source_res, source in sources:
                for port in DATA_PORTS:
                    specs.append(PathSpec(what=f"{source_res.label} {source} -> {res.label} {eni} ({ip}) tcp {port}",
                                          source=source, destination=destination, port=port, label=res.label))
    return specs


def _consumer_paths(t: Target, f: Findings) -> list[PathSpec]:
    """The consumer's application instance (else its endpoint) -> the endpoint service, tcp 8883 and 443."""
    specs = []
    for res in t.res(T_ENDPOINT):
        if endpoint_kind(res.get("serviceName")) != "privatelink":
            continue
        endpoint = t.endpoint(res)
        if endpoint is None:
            f.bad(f"{res.label}: not found: no path to its endpoint service to analyse", res.label)
            continue
        service_res = next((s for s in t.channel.of_type(T_ENDPOINT_SERVICE)
                            if s.get("serviceName") == res.get("serviceName")), None)
        owner = service_res.stack.account_id if service_res else (t.stack_of_role("iot") or t.stack).account_id
        service_id = str(endpoint.get("ServiceName", "")).rsplit(".", 1)[-1]
        destination = _arn(owner, t.account.region, "vpc-endpoint-service", service_id)
        source, source_label = endpoint["VpcEndpointId"], f"{res.label} {endpoint['VpcEndpointId']}"
        for instance in t.res(T_INSTANCE):
            found = [i for r in t.account.pages("ec2", "DescribeInstances", "Reservations",
                                                Filters=[{"Name": "tag:Name", "Values": [name_tag(instance)]}])
                     for i in r.get("Instances") or [] if t.owned(i, name_tag(instance))
                     and (i.get("State") or {}).get("Name") == "running"]
            if len(found) == 1:
                source, source_label = found[0]["InstanceId"], f"{instance.label} {found[0]['InstanceId']}"
                break
        for port in DATA_PORTS:  # what consumers' clients use (the consumer-path check of the plan)
            specs.append(PathSpec(what=f"{source_label} -> endpoint service {service_id} of account {owner} tcp {port}",
                                  source=source, destination=destination, port=port, label=res.label))
    return specs


_CROSS_ACCOUNT_FIX = ("a path across accounts is analysed only with trusted access for Reachability Analyzer on in "
                      "the Organization and from its management account or a delegated administrator account: "
                      "register this stack's account as a delegated administrator for Reachability Analyzer, or pass "
                      "--no-reachability")


def _analyse(t: Target, f: Findings, specs: list[PathSpec], *, timeout: float, sleep: Callable[[float], None],
             clock: Callable[[], float]) -> None:
    """Create a path and start an analysis per spec, wait for them, judge them; delete what was created."""
    tags = [{"Key": "Name", "Value": f"{CREATED_BY}-{t.stack.name}"}, {"Key": "created-by", "Value": CREATED_BY}]
    tags += [{"Key": k, "Value": v} for k, v in t.account.settings.default_tags.items() if k in ("project", "stack")]
    paths: list[str] = []
    running: dict[str, PathSpec] = {}
    try:
        for spec in specs:
            try:
                path = t.account.call(
                    "ec2", "CreateNetworkInsightsPath", Source=spec.source, Destination=spec.destination,
                    Protocol="tcp", DestinationPort=spec.port,
                    TagSpecifications=[{"ResourceType": "network-insights-path", "Tags": tags}],
                )["NetworkInsightsPath"]["NetworkInsightsPathId"]
                paths.append(path)
                analysis = t.account.call(
                    "ec2", "StartNetworkInsightsAnalysis", NetworkInsightsPathId=path,
                    TagSpecifications=[{"ResourceType": "network-insights-analysis", "Tags": tags}],
                )["NetworkInsightsAnalysis"]["NetworkInsightsAnalysisId"]
                running[analysis] = spec
            except CallFailed as exc:
                f.bad(f"{spec.what}: Reachability Analyzer refused the path: {exc} — {_CROSS_ACCOUNT_FIX}", spec.label)
        _wait_and_judge(t, f, dict(running), timeout=timeout, sleep=sleep, clock=clock)
    finally:
        for analysis in running:
            _delete(t, f, "DeleteNetworkInsightsAnalysis", "NetworkInsightsAnalysisId", analysis,
                    "delete-network-insights-analysis --network-insights-analysis-id")
        for path in paths:
            _delete(t, f, "DeleteNetworkInsightsPath", "NetworkInsightsPathId", path,
                    "delete-network-insights-path --network-insights-path-id")


def _wait_and_judge(t: Target, f: Findings, pending: dict[str, PathSpec], *, timeout: float,
                    sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
    deadline = clock() + timeout
    while pending:
        try:
            analyses = t.account.pages("ec2", "DescribeNetworkInsightsAnalyses", "NetworkInsightsAnalyses",
                                       NetworkInsightsAnalysisIds=sorted(pending))
        except CallFailed as exc:
            for spec in pending.values():
                f.bad(f"{spec.what}: the analysis cannot be read: {exc}", spec.label)
            return
        for analysis in analyses:
            aid = analysis.get("NetworkInsightsAnalysisId")
            if aid in pending and analysis.get("Status") != "running":
                _judge(f, pending.pop(aid), analysis)
        if not pending or clock() >= deadline:
            break
        sleep(POLL_SECONDS)
    for aid, spec in pending.items():
        f.bad(f"{spec.what}: analysis {aid} still running after {timeout:g} s — raise --reachability-timeout",
              spec.label)


def _judge(f: Findings, spec: PathSpec, analysis: dict[str, Any]) -> None:
    aid, status = analysis.get("NetworkInsightsAnalysisId"), analysis.get("Status")
    if status == "failed":
        f.bad(f"{spec.what}: analysis {aid} failed: {analysis.get('StatusMessage', 'no message')} — "
              f"{_CROSS_ACCOUNT_FIX}", spec.label)
    elif analysis.get("NetworkPathFound"):
        hops = len(analysis.get("ForwardPathComponents") or [])
        f.ok(f"{spec.what}: path found ({hops} path components), analysis {aid}", spec.label)
    else:
        f.bad(f"{spec.what}: Reachability Analyzer finds no path (analysis {aid}): "
              f"{_explain(analysis.get('Explanations') or [])} — fix the component it names (`pulumi preview` on "
              "the stack that owns it shows drift from the plan)", spec.label)


_EXPLAINED = ("Component", "SecurityGroup", "Acl", "RouteTable", "TransitGatewayRouteTable", "TransitGatewayAttachment",
              "Subnet", "Vpc", "NetworkInterface", "VpcEndpoint", "LoadBalancerTargetGroup", "Destination")


def _explain(explanations: list[dict[str, Any]]) -> str:
    parts = []
    for explanation in explanations[:3]:
        where = [explanation[k]["Id"] for k in _EXPLAINED
                 if isinstance(explanation.get(k), dict) and explanation[k].get("Id")]
        parts.append(str(explanation.get("ExplanationCode", "?")) + (f" at {', '.join(dict.fromkeys(where))}"
                                                                    if where else ""))
    more = f" (+{len(explanations) - 3} more)" if len(explanations) > 3 else ""
    return "; ".join(parts) + more if parts else "no explanation given"


def _delete(t: Target, f: Findings, operation: str, key: str, rid: str, cli: str) -> None:
    try:
        t.account.call("ec2", operation, **{key: rid})
    except CallFailed as exc:
        f.bad(f"{rid} created by verify could not be deleted: {exc} — delete it: `aws ec2 {cli} {rid}`")
