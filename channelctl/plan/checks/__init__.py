"""Verification of a rendered channel: pure functions over the rendered stacks.

Each check walks the resources the program declared (as ``channelctl.plan.render``
recorded them, cross-linked by the IDs the mocks computed) the way traffic and
DNS queries would walk the deployed channel, and reports what it proved, what
it found missing, and the resources it looked at. Nothing here renders,
reads files or talks to AWS: a check's only input is the planned stacks, so a
test can break a deep copy of a plan and watch exactly that check fail.

Layout: ``model`` indexes the rendered channel (resources, VPCs, subnets, route
tables, Transit Gateway, security groups, load balancers, endpoints); ``dns``
and ``paths`` walk DNS answers and network paths on that model; every other
module is one check, and ``run_checks`` below runs them in order
(``accounts``, what must already be true of the accounts, then ``deployable`` last: what AWS
refuses although the provider accepts it). ``sources`` says where each account-dependent figure
came from: a facts file of ``PlannedStack.facts``, or a documented default.
"""

from __future__ import annotations

from typing import Mapping

from channelctl.plan.checks.accounts import check_accounts
from channelctl.plan.checks.addresses import check_addresses
from channelctl.plan.checks.capacity import check_capacity
from channelctl.plan.checks.coherence import check_coherence
from channelctl.plan.checks.consumer_path import check_consumer_path
from channelctl.plan.checks.deployable import check_deployable
from channelctl.plan.checks.devices_dns import check_devices_dns
from channelctl.plan.checks.devices_path import check_devices_path
from channelctl.plan.checks.dns import resolve_alias, zone_answer
from channelctl.plan.checks.isolation import check_isolation, connect_problems
from channelctl.plan.checks.observability import check_observability
from channelctl.plan.checks.ordering import check_ordering
from channelctl.plan.checks.model import (
    ACCOUNTS,
    CAPACITY,
    COHERENCE,
    CONSUMER_PATH,
    DEPLOYABLE,
    DEVICES_DNS,
    DEVICES_PATH,
    ISOLATION,
    OBSERVABILITY,
    T_ASG,
    T_DX_ASSOC,
    T_DX_GATEWAY,
    T_ENDPOINT_SERVICE,
    T_INSTANCE,
    T_LB,
    T_RESOLVER,
    T_STACK_REFERENCE,
    T_SUBNET,
    T_TGW,
    T_ZONE,
    Channel,
    CheckResult,
    PlannedStack,
    Res,
    endpoint_ips,
    endpoint_kind,
    is_interface,
    listeners_of,
    nlb_ips,
    short_type,
)
from channelctl.plan.checks.paths import (
    listener_target_groups,
    proxy_upstreams,
    service_nlbs,
    targets_of,
)

__all__ = [
    "ACCOUNTS", "CAPACITY", "COHERENCE", "CONSUMER_PATH", "DEPLOYABLE", "DEVICES_DNS", "DEVICES_PATH", "ISOLATION",
    "OBSERVABILITY",
    "T_ASG", "T_DX_ASSOC", "T_DX_GATEWAY", "T_ENDPOINT_SERVICE", "T_INSTANCE", "T_LB", "T_RESOLVER",
    "T_STACK_REFERENCE", "T_SUBNET", "T_TGW", "T_ZONE",
    "Channel", "CheckResult", "PlannedStack", "Res",
    "connect_problems", "endpoint_ips", "endpoint_kind", "is_interface", "listener_target_groups", "listeners_of", "nlb_ips",
    "proxy_upstreams", "resolve_alias", "run_checks", "service_nlbs", "short_type", "targets_of", "zone_answer",
]


def run_checks(stacks: Mapping[str, PlannedStack]) -> list[CheckResult]:
    """Every check over the planned stacks, in a fixed order."""
    ch = Channel(stacks)
    results = [check_devices_path(ch), check_devices_dns(ch)]
    results += [check_consumer_path(ch, s) for s in sorted(ch.role("consumer"), key=lambda s: s.name)]
    results += [check_isolation(ch), check_capacity(ch), check_coherence(ch), check_observability(ch)]
    results += [check_addresses(ch), check_ordering(ch)]
    results += [check_accounts(ch), check_deployable(ch)]
    return results
