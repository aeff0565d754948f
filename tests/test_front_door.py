"""The README's first command works with the runtime dependencies alone.

`bin/setup` without `--test` installs no test or policy extra, so nothing `channelctl` runs may
import `pulumi-policy` (the pack's checks live in `policies.checks` for that reason). CI runs the
README's first command itself in a virtualenv made by a plain `bin/setup`; here, every command's
parser is built in a fresh interpreter in which importing `pulumi_policy` fails, and every module a
command can reach — imported at the top or inside a function — is shown free of it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_layout import import_graph, modules

ROOT = Path(__file__).resolve().parents[1]
BLOCK_POLICY = "import sys; sys.modules['pulumi_policy'] = None; "
# Every command's --help, in one interpreter: each builds its parser and the modules behind it.
HELP_OF_EVERY_COMMAND = BLOCK_POLICY + """
from channelctl.cli import build_parser, main
commands = list(build_parser()._subparsers._group_actions[0].choices)
for argv in [["--help"]] + [[command, "--help"] for command in commands]:
    try:
        main(argv)
    except SystemExit as exit:
        assert exit.code == 0, (argv, exit.code)
print("commands:", " ".join(commands))
"""
# The packages the test and policy extras install; nothing reachable from the CLI may import them.
EXTRAS_ONLY = ("pulumi_policy", "pytest", "moto", "hypothesis", "jsonschema")


def test_the_blocker_really_blocks_pulumi_policy():
    blocked = subprocess.run([sys.executable, "-c", BLOCK_POLICY + "import policies.rules"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert blocked.returncode != 0
    assert "pulumi_policy" in blocked.stderr


def test_every_command_s_help_works_without_pulumi_policy():
    result = subprocess.run([sys.executable, "-c", HELP_OF_EVERY_COMMAND], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert {"plan", "devices", "up", "discover", "verify"} <= set(result.stdout.split("commands:")[1].split())


def reachable(graph: dict[str, set[str]], *starts: str) -> set[str]:
    seen, todo = set(), list(starts)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def third_party_imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def extras_reached_from(*starts: str) -> dict[str, set[str]]:
    found = modules()
    graph = {name: set(deps) for name, deps in import_graph(found).items()}
    # A package's __init__ runs before any of its modules: count it as imported with them.
    for name in list(graph):
        parts = name.split(".")
        graph[name] |= {".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in found}
    return {m: bad for m in reachable(graph, *starts) if (bad := third_party_imports(found[m]) & set(EXTRAS_ONLY))}


def test_nothing_a_command_can_reach_imports_an_extra():
    from channelctl.cli import COMMANDS  # imported by name: start from each

    assert len(reachable(import_graph(modules()), "channelctl.cli", *COMMANDS)) > 40
    assert extras_reached_from("channelctl.cli", *COMMANDS) == {}


def test_the_reachability_sees_the_pack_s_rules():
    # The same walk from the policy pack finds pulumi_policy: the check above can fail.
    assert "pulumi_policy" in set().union(*extras_reached_from("policies.__main__").values())
