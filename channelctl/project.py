"""The Pulumi project on disk: its stacks, their roles, and the order a release runs them in.

Reads ``Pulumi.yaml`` and the ``Pulumi.<stack>.yaml`` files the way the Pulumi CLI does,
without the CLI: stack config lives under ``config:`` with keys ``<namespace>:<key>``;
project-level values in ``Pulumi.yaml`` apply to every stack unless the stack sets its own.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_FILE = "Pulumi.yaml"
# The top-level keys of a Pulumi.<stack>.yaml file (Pulumi's ProjectStack: config, the ESC environments it
# imports, and the secrets provider's settings); every setting of the program is under ``config:``.
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
ROLES = ("network", "iot", "consumer")
ROLE_KEY = "role"

# Pulumi's own rule for stack names (letters, digits, '-', '_', '.').
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+\Z")

# The release order (README, "The five release steps"): (step number, role, what the step does). Steps 3 and 5 exist
# because the account that owns a resource must act on IDs that only a later stack creates.
RELEASE_ORDER: tuple[tuple[int, str, str], ...] = (
    (1, "network", "device VPC, Resolver inbound endpoint, Transit Gateway, RAM share, Direct Connect gateway"),
    (2, "iot", "gatekeeper VPC, TGW attachment (pending acceptance, so no VPC routes to the TGW yet), "
               "IoT endpoints, private zones and association authorizations, NLB, endpoint service, "
               "authorizer, IoT policy"),
    (3, "network", "again: accept the TGW attachment, routes, private-zone associations"),
    (4, "consumer", "endpoint to the endpoint service, private zone, application"),
    (5, "iot", "again: VPC routes to the TGW through the accepted attachment, "
               "accept the consumers' endpoint connections"),
)


# Config keys the program reads as stack references, per role, and whether the reference points
# backwards in the release order: such a key is switched on only once the stack it names exists,
# because real Pulumi fails on a StackReference to a stack that does not exist yet.
REFERENCE_KEYS: dict[str, tuple[tuple[str, bool], ...]] = {
    "network": (("iotStack", True),),
    "iot": (("networkStack", False), ("consumers[].stack", True)),
    "consumer": (("iotStack", False),),
}

# Keys of the AWS provider's namespace that the program's explicit provider ignores, and the
# project key that does their job (components/providers.py builds the provider from these).
_PROVIDER_KEYS = {
    "aws:region": "region",
    "aws:allowedAccountIds": "accountId",
    "aws:assumeRole": "assumeRoleArn",
    "aws:assumeRoles": "assumeRoleArn",
    "aws:defaultTags": "tags",
}
# A namespace this close to the project's name is a misspelling of it, not another package's.
_NAMESPACE_TYPO_RATIO = 0.8
# An unquoted scalar of digits with a leading zero: YAML 1.1 (PyYAML) reads it as octal when every
# digit is below 8 and as a string otherwise; YAML 1.2 readers drop the zero. Quoted, it is the text.
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")


class ProjectError(Exception):
    """A project or stack file is missing or malformed; the one-line message names the file and the key."""


@dataclass(frozen=True)
class StackFile:
    """One ``Pulumi.<stack>.yaml`` file.

    ``config`` holds the project-namespace keys without the ``<project>:`` prefix, merged over the
    project-level values of ``Pulumi.yaml``; values stay as YAML parsed them (``pulumi config set``
    writes top-level values as strings, ``--path`` values as nested maps and lists).
    ``other_config`` holds keys of other namespaces with their full name (``aws:region``).
    ``secret_keys`` names the project keys whose value is an encrypted ``{secure: ...}`` entry.
    """

    name: str
    path: Path
    role: str
    config: dict[str, object]
    other_config: dict[str, object] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()
    # (full key path, the text as written) of unquoted numbers with a leading zero.
    unquoted_leading_zeros: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Project:
    """The project directory, its name and the selected stacks (in selection order, or by name)."""

    name: str
    directory: Path
    stacks: dict[str, StackFile]


@dataclass(frozen=True)
class StackReferenceKey:
    """A config value the program reads as a stack reference: its key path, value and direction."""

    key: str
    value: str
    backward: bool

    @property
    def stack(self) -> str:
        """The referenced stack's short name (the last segment of ``org/project/stack``)."""
        return self.value.rsplit("/", 1)[-1]


def stack_references(stack: StackFile) -> list[StackReferenceKey]:
    """Every stack reference the stack's config switches on, in key order."""
    found: list[StackReferenceKey] = []
    for key, backward in REFERENCE_KEYS.get(stack.role, ()):
        if key.endswith("[].stack"):
            entries = stack.config.get(key.split("[", 1)[0])
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                value = entry.get("stack") if isinstance(entry, Mapping) else None
                if isinstance(value, str) and value:
                    found.append(StackReferenceKey(f"{key.split('[', 1)[0]}[{index}].stack", value, backward))
        else:
            value = stack.config.get(key)
            if isinstance(value, str) and value:
                found.append(StackReferenceKey(key, value, backward))
    return found


def misplaced_keys(project: Project) -> None:
    """Refuse config the program would never read, naming the key and the fix.

    A misspelled project namespace (``private-mqtt-chanel:region``) or a key of the AWS provider's
    namespace (``aws:region``) is silently ignored by the program, which then reports the project
    key as missing; an unquoted number with a leading zero is not the text that was typed.
    """
    for stack in project.stacks.values():
        file_name = stack.path.name
        for key in stack.other_config:
            namespace, _, short = str(key).partition(":")
            if namespace != project.name and difflib.SequenceMatcher(
                None, namespace, project.name
            ).ratio() >= _NAMESPACE_TYPO_RATIO:
                raise ProjectError(
                    f"{file_name}: config key '{key}': namespace '{namespace}' is not the project's "
                    f"('{project.name}'), so the program never reads it — write it as '{project.name}:{short}'"
                )
            instead = _PROVIDER_KEYS.get(str(key))
            if instead is not None and instead not in stack.config:
                raise ProjectError(
                    f"{file_name}: config key '{key}' is not read: the stack's explicit AWS provider ignores "
                    f"the aws: namespace — set '{project.name}:{instead}' instead "
                    f"(pulumi config set {instead} <value> -s {stack.name})"
                )
        for key, text in stack.unquoted_leading_zeros:
            if not key.startswith(f"{project.name}:"):
                continue
            read = _read_as(text)
            raise ProjectError(
                f"{file_name}: key '{key}': {text} is unquoted, so it is not read as written ({read}) "
                f"— quote it: \"{text}\""
            )


def _read_as(text: str) -> str:
    """What YAML readers make of an unquoted number with a leading zero."""
    decimal = int(text.replace("_", ""))
    value = yaml.safe_load(text)
    if isinstance(value, int):
        return f"YAML 1.1 reads it as the octal number {value}, YAML 1.2 as {decimal}"
    return f"YAML 1.2 reads it as the number {decimal}"


@dataclass(frozen=True)
class Step:
    """One stack operation of the release; ``number`` is the step (1-5) of the release order."""

    number: int
    stack: str
    role: str
    description: str


def load_project(cwd: Path, stack_names: list[str] | None = None) -> Project:
    """Read ``Pulumi.yaml`` and every stack file (or only the named stacks) under ``cwd``."""
    directory = Path(cwd)
    project_path = directory / PROJECT_FILE
    if not project_path.is_file():
        raise ProjectError(_no_project_file(directory))
    document = _read_mapping(project_path)
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(
            f"{PROJECT_FILE}: key 'name' is {name!r} — set it to the project name, e.g. 'name: private-mqtt-channel'"
        )
    project_values, project_other = _project_level_config(project_path, document.get("config"), name)

    if stack_names is None:
        names = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))
    else:
        names = list(dict.fromkeys(stack_names))
    stacks = {
        stack: _load_stack(directory, name, stack, project_values, project_other)
        for stack in names
    }
    return Project(name=name, directory=directory, stacks=stacks)


def _no_project_file(directory: Path) -> str:
    """Why ``directory`` is not a project directory, and how to make it one or find the right one."""
    if not directory.exists():
        return (f"{directory}: no such directory — point --cwd at the project directory (the one holding "
                f"{PROJECT_FILE} and the Pulumi.<stack>.yaml files)")
    if not directory.is_dir():
        return f"{directory}: is not a directory — point --cwd at the project directory (the one holding {PROJECT_FILE})"
    stack_files = sorted(p.name for p in directory.glob("Pulumi.*.yaml"))
    if not stack_files:
        return (f"{PROJECT_FILE}: not found in {directory} — run from the project directory or point --cwd at it "
                f"(the directory holding {PROJECT_FILE} and the Pulumi.<stack>.yaml files)")
    # The stack files' keys name the project (``<project>:<key>``): suggest that name for the project file.
    name = _namespace_of(directory / stack_files[0]) or "<project name>"
    return (f"{PROJECT_FILE}: not found in {directory}, which holds stack files ({', '.join(stack_files)}) but no "
            f"project file — point --cwd at the project directory (the repository's root, holding {PROJECT_FILE} "
            f"and __main__.py), or copy the stack files there; the stack files name the project '{name}'")


def _namespace_of(path: Path) -> str | None:
    """The namespace of the first ``<namespace>:<key>`` config key of a stack file (None if there is none)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(document, Mapping):
        return None
    config = document.get("config")
    keys = list(config) if isinstance(config, Mapping) else list(document)
    for key in keys:
        namespace = str(key).partition(":")[0] if ":" in str(key) else ""
        if namespace and namespace not in ("aws", "pulumi"):
            return namespace
    return None


def deployment_steps(project: Project) -> list[Step]:
    """The release order for the project's stacks; a step whose role has no stack is left out."""
    return [
        Step(number=number, stack=stack.name, role=role, description=description)
        for number, role, description in RELEASE_ORDER
        for stack in project.stacks.values()
        if stack.role == role
    ]


def _load_stack(
    directory: Path,
    project_name: str,
    stack: str,
    project_values: Mapping[str, object],
    project_other: Mapping[str, object],
) -> StackFile:
    file_name = f"Pulumi.{stack}.yaml"
    if not _STACK_NAME.match(stack):
        hint = f" — pass the short stack name ({stack.rsplit('/', 1)[-1]})" if "/" in stack else \
            " — stack names use letters, digits, '-', '_' and '.'"
        raise ProjectError(f"{file_name}: stack name {stack!r} is not valid{hint}")
    path = directory / file_name
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))
        raise ProjectError(
            f"{file_name}: no such file for stack {stack!r} in {directory} — "
            f"create it with 'pulumi stack init {stack}' or pick one of: {', '.join(known) or 'none found'}"
        )
    document, leading_zeros = _read_mapping_noting_leading_zeros(path)
    _refuse_top_level_keys(file_name, document, project_name)
    raw_config = document.get("config", {})
    if raw_config is None:
        raw_config = {}
    if not isinstance(raw_config, Mapping):
        raise ProjectError(
            f"{file_name}: key 'config' must map '<namespace>:<key>' to values, found {type(raw_config).__name__} "
            f"— write one 'namespace:key: value' line per setting"
        )
    config = dict(project_values)
    other = dict(project_other)
    secret_keys: set[str] = set()
    for key, value in raw_config.items():
        namespace, short = _split_key(file_name, key, project_name)
        if namespace == project_name:
            config[short] = value
            if _is_secure(value):
                secret_keys.add(short)
        else:
            other[key] = value
    # Every stack file found must name a role: a file the release would silently skip is a
    # mistake worth stopping for.
    role = _role(file_name, stack, config, project_name)
    return StackFile(
        name=stack, path=path, role=role, config=config, other_config=other, secret_keys=frozenset(secret_keys),
        unquoted_leading_zeros=tuple(
            (key.removeprefix("config."), text) for key, text in leading_zeros if key.startswith("config.")
        ),
    )


def _refuse_top_level_keys(file_name: str, document: Mapping[object, object], project_name: str) -> None:
    """A stack file holds only the keys Pulumi reads there; a setting written beside ``config:`` is never read."""
    stray = [key for key in document if key not in STACK_FILE_KEYS]
    if not stray:
        return
    key = next((k for k in stray if isinstance(k, str) and ":" in k), stray[0])
    others = len(stray) - 1
    is_ = f" and {others} other key{'s' if others > 1 else ''} are" if others else " is"
    if isinstance(key, str) and ":" in key:
        raise ProjectError(
            f"{file_name}: key '{key}'{is_} at the top level of the file, outside 'config:', so Pulumi never reads "
            f"{'them' if others else 'it'} — stack settings go under 'config:': add a line 'config:' above them and indent each key under it"
        )
    raise ProjectError(
        f"{file_name}: top-level key {key!r}{is_} not a stack-file key (Pulumi reads only "
        f"{', '.join(STACK_FILE_KEYS)} there) — write a setting under 'config:' as '{project_name}:{key}', or remove it"
    )


def _role(file_name: str, stack: str, config: Mapping[str, object], project_name: str) -> str:
    if ROLE_KEY in config:
        role = config[ROLE_KEY]
        if role not in ROLES:
            raise ProjectError(
                f"{file_name}: config key '{project_name}:{ROLE_KEY}': {role!r} is not a role — "
                f"use {', '.join(ROLES[:-1])} or {ROLES[-1]}"
            )
        return str(role)
    first_word = stack.split("-", 1)[0]
    if first_word not in ROLES:
        raise ProjectError(
            f"{file_name}: stack name {stack!r} does not start with a role and config key "
            f"'{project_name}:{ROLE_KEY}' is not set — name the stack {', '.join(ROLES[:-1])} or {ROLES[-1]} "
            f"(optionally '<role>-<suffix>'), or set the key"
        )
    return first_word


def _project_level_config(
    path: Path, raw: object, project_name: str
) -> tuple[dict[str, object], dict[str, object]]:
    """Values ``Pulumi.yaml`` gives every stack: a plain value, ``value:`` or ``default:``."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, Mapping):
        raise ProjectError(
            f"{path.name}: key 'config' must be a mapping, found {type(raw).__name__} — "
            f"declare one config key per line"
        )
    values: dict[str, object] = {}
    other: dict[str, object] = {}
    for key, entry in raw.items():
        if not isinstance(key, str) or not key:
            raise ProjectError(f"{path.name}: config key {key!r} is not a string — quote it or rename it")
        namespace, short = key.split(":", 1) if ":" in key else (project_name, key)
        if isinstance(entry, Mapping) and ("value" in entry or "default" in entry):
            value = entry["value"] if "value" in entry else entry["default"]
        elif isinstance(entry, Mapping):
            continue  # a declaration (type, description, secret) without a value
        else:
            value = entry
        if namespace == project_name:
            values[short] = value
        else:
            other[f"{namespace}:{short}"] = value
    return values, other


def _split_key(file_name: str, key: object, project_name: str) -> tuple[str, str]:
    if not isinstance(key, str) or not key:
        raise ProjectError(f"{file_name}: config key {key!r} is not a string — quote it or rename it")
    if ":" not in key:
        raise ProjectError(
            f"{file_name}: config key {key!r} has no namespace — write it as '{project_name}:{key}'"
        )
    namespace, short = key.split(":", 1)
    if not namespace or not short:
        raise ProjectError(
            f"{file_name}: config key {key!r} is malformed — write it as '<namespace>:<key>', "
            f"e.g. '{project_name}:role'"
        )
    return namespace, short


def _is_secure(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _read_mapping(path: Path) -> dict[str, object]:
    return _read_mapping_noting_leading_zeros(path)[0]


def _leading_zero_scalars(node: yaml.Node, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, text) of every plain (unquoted) scalar that is digits with a leading zero."""
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and _LEADING_ZERO.match(node.value):
            yield path, node.value
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            yield from _leading_zero_scalars(value_node, f"{path}.{key}" if path else key)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _leading_zero_scalars(item, f"{path}[{index}]")


def _read_mapping_noting_leading_zeros(path: Path) -> tuple[dict[str, object], list[tuple[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path.name}: cannot be read ({exc.__class__.__name__}: {exc}) — check the file") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = str(exc.problem or exc.context or "invalid YAML")
        # An unclosed quote or bracket is detected far from where it opened: name both lines.
        if exc.problem and exc.context and exc.context_mark is not None:
            problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise ProjectError(f"{path.name}: {where}{' '.join(problem.split())} — fix the YAML syntax") from exc
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path.name}: {' '.join(str(exc).split())} — fix the YAML syntax") from exc
    if document is None:
        return {}, []
    if not isinstance(document, Mapping):
        raise ProjectError(
            f"{path.name}: expected a mapping at the top level, found {type(document).__name__} — "
            f"start the file with 'config:' (stack) or 'name:' (project)"
        )
    return dict(document), list(_leading_zero_scalars(node)) if node is not None else []
