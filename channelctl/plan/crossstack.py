"""The stack files of one channel agree with each other, before anything is rendered.

Every stack is valid on its own (``components.config`` checks that); this module checks what no
single stack can: that the stacks name one organization and this project in their references, that
each reference names a stack of the right role, and that the values one stack repeats from another
(region, account, VPC ranges) are the same in both files. A disagreement here is refused as bad
input (``ProjectError``, exit 2), naming the file and the key to change: the program itself refuses
it at some step of the release (``components/stacks.py``), so no plan of these files can be released.

Which consumer entry of the iot stack belongs to a consumer stack: the entry whose ``stack:`` names
the consumer stack, else the entry with the consumer stack's ``accountId`` (account IDs are unique
among the entries; names are not compared, because the stack ``consumer`` may serve the entry
``analytics``). A consumer stack without an entry is refused (the consumer stack refuses an iot stack
that does not allow its account); the range of an entry matched by account alone is left to the
plan's ``coherence`` check: the program cannot see it (it reads no consumer stack for that entry),
and the plan renders meaningfully.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from channelctl.project import RELEASE_ORDER, Project, ProjectError, StackFile
from components.config import (
    PRIVATELINK_REGION_RULE,
    SAME_ORGANIZATION_RULE,
    TGW_REGION_RULE,
    ConfigError,
    parse_raw,
)

# Keys that hold a stack reference, per role of the stack that holds them, and the role the
# referenced stack must have. ``consumers[].stack`` is expanded per entry.
REFERENCE_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "network": (("iotStack", "iot"),),
    "iot": (("networkStack", "network"), ("consumers[].stack", "consumer")),
    "consumer": (("iotStack", "iot"),),
}


def as_flag(value: Any) -> bool | None:
    """A config flag as the program reads it (default false); None when it is not a flag (the program refuses it)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"true": True, "false": False}.get(text)


@dataclass(frozen=True)
class Reference:
    """One stack reference in one stack file, split into its parts."""

    stack: StackFile
    key: str  # e.g. "consumers[0].stack"
    value: str
    expected_role: str
    org: str | None
    project: str | None
    name: str


def parse_reference(value: str) -> tuple[str | None, str | None, str]:
    """``org/project/stack``, ``org/stack`` or ``stack`` -> (org, project, stack)."""
    parts = value.split("/")
    if len(parts) >= 3:
        return parts[-3], parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return None, None, value


def references(project: Project) -> list[Reference]:
    """Every stack reference of the project's stack files, in release order of the stacks."""
    found: list[Reference] = []
    for stack in ordered_stacks(project):
        for key, role in REFERENCE_KEYS.get(stack.role, ()):
            for path, value in _values(config_of(stack), key):
                if isinstance(value, str) and value:
                    org, proj, name = parse_reference(value)
                    found.append(Reference(stack, path, value, role, org, proj, name))
    return found


def reference_key(role: str, config: Mapping[str, Any], value: str) -> str | None:
    """The key (``consumers[0].stack``) of a stack of this role that holds the reference ``value``."""
    for key, _ in REFERENCE_KEYS.get(role, ()):
        for path, found in _values(decoded(config), key):
            if found == value:
                return path
    return None


def config_of(stack: StackFile) -> dict[str, Any]:
    """The stack's project keys with structured values decoded, as the program reads them."""
    return decoded(stack.config)


def decoded(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config values with JSON-encoded structured values decoded (``pulumi config set`` without ``--path``)."""
    try:
        return parse_raw(config)
    except ConfigError:
        return dict(config)  # the render refuses the malformed value with its own message


def ordered_stacks(project: Project) -> list[StackFile]:
    roles = [role for _, role, _ in RELEASE_ORDER]
    return sorted(project.stacks.values(), key=lambda s: (roles.index(s.role), s.name))


def consumer_entries(iot_config: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    entries = iot_config.get("consumers")
    if not isinstance(entries, list):
        return []
    return [(i, e) for i, e in enumerate(entries) if isinstance(e, Mapping)]


def entry_for(iot_config: Mapping[str, Any], consumer: str, account: str) -> tuple[int, Mapping[str, Any], str] | None:
    """The iot stack's ``consumers`` entry for a consumer stack: (index, entry, matched by "stack"/"accountId")."""
    entries = consumer_entries(iot_config)
    for i, entry in entries:
        value = entry.get("stack")
        if isinstance(value, str) and value and parse_reference(value)[2] == consumer:
            return i, entry, "stack"
    for i, entry in entries:
        if "stack" in entry and entry.get("stack"):
            continue  # an entry bound to another consumer stack by its reference
        if str(entry.get("accountId", "")) == account:
            return i, entry, "accountId"
    return None


def listed(iot_config: Mapping[str, Any], account: str) -> bool:
    """Whether an entry of the iot stack's ``consumers`` allows the account on the endpoint service."""
    return any(str(entry.get("accountId", "")) == account for _, entry in consumer_entries(iot_config))


def consumer_cidr(config: Mapping[str, Any]) -> tuple[str, Any]:
    """The consumer's VPC range and the key it is set under."""
    existing = config.get("existingVpc")
    if isinstance(existing, Mapping):
        return "existingVpc.vpcCidr", existing.get("vpcCidr")
    return "vpcCidr", config.get("vpcCidr")


def same_cidr(a: Any, b: Any) -> bool | None:
    """Whether two CIDRs are the same network; None when either is not a CIDR (the program refuses it)."""
    try:
        return ipaddress.ip_network(str(a)) == ipaddress.ip_network(str(b))
    except ValueError:
        return None


def validate(project: Project) -> None:
    """Refuse stack files that do not describe one channel; the message names the file and the key."""
    refs = references(project)
    _one_organization_and_project(project, refs)
    _roles(project, refs)
    for a, b, what in _pairs(project, refs):
        _agree(project, a, b, what)


def _one_organization_and_project(project: Project, refs: list[Reference]) -> None:
    first: Reference | None = None
    for ref in refs:
        if ref.project is not None and ref.project != project.name:
            raise ProjectError(
                f"{_where(project, ref.stack, ref.key)}: stack reference {ref.value!r} names project {ref.project!r}, "
                f"not this project {project.name!r} (the name in Pulumi.yaml) — write it as "
                f"'{ref.org}/{project.name}/{ref.name}'"
            )
        if ref.org is None:
            continue
        if first is None:
            first = ref
        elif ref.org != first.org:
            raise ProjectError(
                f"{_where(project, ref.stack, ref.key)}: stack reference {ref.value!r} names organization "
                f"{ref.org!r}, but {_where(project, first.stack, first.key)} names {first.org!r} — the stacks of "
                f"one channel live in one organization: use the same one in every reference"
            )


def _roles(project: Project, refs: list[Reference]) -> None:
    for ref in refs:
        target = project.stacks.get(ref.name)
        if target is not None and target.role != ref.expected_role:
            raise ProjectError(
                f"{_where(project, ref.stack, ref.key)}: stack reference {ref.value!r} names stack {ref.name!r}, "
                f"whose role is {target.role} — point the key at the {ref.expected_role} stack"
            )


def _pairs(project: Project, refs: list[Reference]) -> Iterator[tuple[StackFile, StackFile, str]]:
    """(stack, the stack it works with, "network-iot" or "consumer-iot"), each pair once."""
    seen: set[tuple[str, str]] = set()
    for ref in refs:
        target = project.stacks.get(ref.name)
        if target is None or target.role != ref.expected_role:
            continue
        pair = {ref.stack.role: ref.stack, target.role: target}
        if set(pair) == {"network", "iot"}:
            key = (pair["network"].name, pair["iot"].name)
            if key not in seen:
                seen.add(key)
                yield pair["network"], pair["iot"], "network-iot"
        elif ref.stack.role == "consumer" and target.role == "iot":
            key = (ref.stack.name, target.name)
            if key not in seen:
                seen.add(key)
                yield ref.stack, target, "consumer-iot"


def _agree(project: Project, stack: StackFile, iot: StackFile, what: str) -> None:
    own, other = config_of(stack), config_of(iot)
    region, iot_region = own.get("region"), other.get("region")
    if isinstance(region, str) and isinstance(iot_region, str) and region != iot_region:
        # The stack that attaches to (iot) or connects to (consumer) the other one's resource is blamed.
        if what == "network-iot":
            blamed, value, other_file, other_value, rule = iot, iot_region, stack.path.name, region, TGW_REGION_RULE
        else:
            blamed, value, other_file, other_value = stack, region, iot.path.name, iot_region
            rule = PRIVATELINK_REGION_RULE
        raise ProjectError(
            f"{_where(project, blamed, 'region')}: {value} differs from {other_file}'s region {other_value} — "
            f"{rule}: deploy both stacks to one region"
        )
    if what == "network-iot":
        shared_with, account = own.get("iotAccountId"), other.get("accountId")
        if shared_with is not None and account is not None and str(shared_with) != str(account):
            raise ProjectError(
                f"{_where(project, stack, 'iotAccountId')}: {shared_with} is not the account of the iot stack "
                f"({iot.path.name} accountId {account}) — the Transit Gateway would be shared with account "
                f"{shared_with}: set iotAccountId to {account}"
            )
        cidr, iot_cidr = own.get("gatekeeperVpcCidr"), other.get("gatekeeperVpcCidr")
        if same_cidr(cidr, iot_cidr) is False:
            raise ProjectError(
                f"{_where(project, stack, 'gatekeeperVpcCidr')}: {cidr} differs from {iot.path.name}'s "
                f"gatekeeperVpcCidr {iot_cidr} — the network stack routes and advertises the gatekeeper VPC's "
                f"range: set the same range in both files"
            )
        shares_inside, accepts_inside = as_flag(own.get("sameOrganization")), as_flag(other.get("sameOrganization"))
        if shares_inside is not None and accepts_inside is not None and shares_inside != accepts_inside:
            raise ProjectError(
                f"{_where(project, iot, 'sameOrganization')}: {str(accepts_inside).lower()} differs from "
                f"{stack.path.name}'s sameOrganization {str(shares_inside).lower()} — {SAME_ORGANIZATION_RULE}: "
                f"set the same value in both files"
            )
        return
    account = str(own.get("accountId", ""))
    found = entry_for(other, stack.name, account)
    if found is not None and found[2] == "stack":
        # The iot stack reads this consumer stack at step 5 and refuses both disagreements.
        index, entry, _ = found
        if str(entry.get("accountId", "")) != account:
            raise ProjectError(
                f"{_where(project, iot, f'consumers[{index}].accountId')}: {entry.get('accountId')} is not the "
                f"account of the stack its 'stack' key names ({stack.path.name} accountId {account}) — set the "
                f"entry's accountId to {account}, or point its stack at the consumer stack of account "
                f"{entry.get('accountId')}"
            )
        key, cidr = consumer_cidr(own)
        if entry.get("vpcCidr") is not None and same_cidr(entry.get("vpcCidr"), cidr) is False:
            raise ProjectError(
                f"{_where(project, iot, f'consumers[{index}].vpcCidr')}: {entry.get('vpcCidr')} differs from "
                f"{stack.path.name}'s {key} {cidr} — set the consumer VPC's range in the entry"
            )
    if not listed(other, account):
        # The iot stack exports its consumerAccountIds and the consumer stack refuses to run without its own.
        raise ProjectError(
            f"{_where(project, stack, 'accountId')}: account {account} is in no entry of {iot.path.name} key "
            f"'{project.name}:consumers' — add {{name: <name>, accountId: \"{account}\", vpcCidr: <its range>}} "
            f"there (the endpoint service allows only those accounts), or point iotStack at the iot stack that "
            f"serves this consumer"
        )
    # An entry matched by account alone: the program reads no consumer stack for it, the coherence check compares.


def _where(project: Project, stack: StackFile, key: str) -> str:
    return f"{stack.path.name}: key '{project.name}:{key}'"


def _values(config: Mapping[str, Any], key: str) -> Iterator[tuple[str, Any]]:
    """(key path, value) for a key, expanding ``list[].field`` over the list's entries."""
    if "[]." in key:
        head, field = key.split("[].", 1)
        entries = config.get(head)
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                if isinstance(entry, Mapping) and field in entry:
                    yield f"{head}[{i}].{field}", entry[field]
        return
    if key in config:
        yield key, config[key]
