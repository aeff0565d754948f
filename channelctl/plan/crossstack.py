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
    """The key (``consumers[0].stack``) of a stack of this role that holds the reference ``value``
    (``config`` as the program reads it: decoded, see ``decoded``)."""
    for key, _ in REFERENCE_KEYS.get(role, ()):
        for path, found in _values(config, key):
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



# --------------------------------------------------------------------------- #
# The cross-stack rules, each once: what must agree and how to fix it. ``validate`` applies them to
# the stack files before anything renders; the plan's ``coherence`` check applies the same functions
# to what was rendered (providers' regions and accounts, the resources that cross stacks). Each
# returns the problem (value, what it differs from, the fix) or None; the caller says where.
# --------------------------------------------------------------------------- #


def region_problem(value: Any, other_file: str, other_value: Any, *, kind: str) -> str | None:
    """Two stacks that attach (``network-iot``) or connect (``consumer-iot``) are in one Region."""
    if not (isinstance(value, str) and isinstance(other_value, str)) or value == other_value:
        return None
    rule = TGW_REGION_RULE if kind == "network-iot" else PRIVATELINK_REGION_RULE
    return f"{value} differs from {other_file}'s region {other_value} — {rule}: deploy both stacks to one region"


def shared_account_problem(shared_with: Any, account: Any, iot_file: str) -> str | None:
    """The network stack shares its Transit Gateway with the iot stack's account, no other."""
    if shared_with is None or account is None or str(shared_with) == str(account):
        return None
    return (f"{shared_with} is not the account of the iot stack ({iot_file} accountId {account}) — the Transit "
            f"Gateway would be shared with account {shared_with}: set iotAccountId to {account}")


def gatekeeper_range_problem(routed: Any, built: Any, iot_file: str) -> str | None:
    """The network stack routes and advertises the gatekeeper VPC's own range."""
    if same_cidr(routed, built) is not False:
        return None
    return (f"{routed} differs from {iot_file}'s gatekeeperVpcCidr {built} — the network stack routes and "
            f"advertises the gatekeeper VPC's range: set the same range in both files")


def same_organization_problem(shares_inside: bool | None, accepts_inside: bool | None, network_file: str) -> str | None:
    """The iot stack accepts the Transit Gateway share the way the network stack shares it."""
    if shares_inside is None or accepts_inside is None or shares_inside == accepts_inside:
        return None
    return (f"{str(accepts_inside).lower()} differs from {network_file}'s sameOrganization "
            f"{str(shares_inside).lower()} — {SAME_ORGANIZATION_RULE}: set the same value in both files")


def entry_account_problem(entry: Mapping[str, Any], account: str, consumer_file: str, matched_by: str) -> str | None:
    """A ``consumers`` entry that names a consumer stack carries that stack's account."""
    if str(entry.get("accountId", "")) == account:
        return None
    how = "its 'stack' key names" if matched_by == "stack" else "it matches"
    return (f"{entry.get('accountId')} is not the account of the stack {how} ({consumer_file} accountId {account}) — "
            f"set the entry's accountId to {account}, or point its stack at the consumer stack of account "
            f"{entry.get('accountId')}")


def entry_range_problem(entry: Mapping[str, Any], key: str, cidr: Any, consumer_file: str) -> str | None:
    """A ``consumers`` entry's ``vpcCidr`` is its consumer stack's VPC range."""
    if entry.get("vpcCidr") is None or same_cidr(entry.get("vpcCidr"), cidr) is not False:
        return None
    return f"{entry.get('vpcCidr')} differs from {consumer_file}'s {key} {cidr} — set the consumer VPC's range in the entry"


def unlisted_account_problem(account: str, iot_config: Mapping[str, Any], iot_file: str, project: str) -> str | None:
    """A consumer stack's account is allowed by an entry of the iot stack's ``consumers``."""
    if listed(iot_config, account):
        return None
    return (f"account {account} is in no entry of {iot_file} key '{project}:consumers' — add {{name: <name>, "
            f"accountId: \"{account}\", vpcCidr: <its range>}} there (the endpoint service allows only those "
            f"accounts), or point iotStack at the iot stack that serves this consumer")


def reference_project_problem(value: str, org: str | None, named_project: str | None, name: str,
                              project: str) -> str | None:
    """A stack reference names this project (the name in Pulumi.yaml)."""
    if named_project is None or named_project == project:
        return None
    return (f"stack reference {value!r} names project {named_project!r}, not this project {project!r} (the name in "
            f"Pulumi.yaml) — write it as '{org}/{project}/{name}'")


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
        problem = reference_project_problem(ref.value, ref.org, ref.project, ref.name, project.name)
        if problem:
            raise ProjectError(f"{_where(project, ref.stack, ref.key)}: {problem}")
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
    # The stack that attaches to (iot) or connects to (consumer) the other one's resource is blamed.
    if what == "network-iot":
        blamed, problem = iot, region_problem(other.get("region"), stack.path.name, own.get("region"), kind=what)
    else:
        blamed, problem = stack, region_problem(own.get("region"), iot.path.name, other.get("region"), kind=what)
    _refuse(project, blamed, "region", problem)
    if what == "network-iot":
        _refuse(project, stack, "iotAccountId",
                shared_account_problem(own.get("iotAccountId"), other.get("accountId"), iot.path.name))
        _refuse(project, stack, "gatekeeperVpcCidr",
                gatekeeper_range_problem(own.get("gatekeeperVpcCidr"), other.get("gatekeeperVpcCidr"), iot.path.name))
        _refuse(project, iot, "sameOrganization",
                same_organization_problem(as_flag(own.get("sameOrganization")), as_flag(other.get("sameOrganization")),
                                          stack.path.name))
        return
    account = str(own.get("accountId", ""))
    found = entry_for(other, stack.name, account)
    if found is not None and found[2] == "stack":
        # The iot stack reads this consumer stack at step 5 and refuses both disagreements.
        index, entry, matched_by = found
        _refuse(project, iot, f"consumers[{index}].accountId",
                entry_account_problem(entry, account, stack.path.name, matched_by))
        key, cidr = consumer_cidr(own)
        _refuse(project, iot, f"consumers[{index}].vpcCidr", entry_range_problem(entry, key, cidr, stack.path.name))
    # The iot stack exports its consumerAccountIds and the consumer stack refuses to run without its own.
    _refuse(project, stack, "accountId", unlisted_account_problem(account, other, iot.path.name, project.name))
    # An entry matched by account alone: the program reads no consumer stack for it, the coherence check compares.


def _refuse(project: Project, stack: StackFile, key: str, problem: str | None) -> None:
    if problem:
        raise ProjectError(f"{_where(project, stack, key)}: {problem}")


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
