"""The README is a front door a newcomer reads in minutes; the pages under docs/ hold the rest.

Every page the README lists exists and links back, every relative link and anchor resolves, and
every `channelctl` command a code block shows is one the CLI's own parser accepts.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import shlex
import unicodedata

import pytest

from channelctl.cli import build_parser
from tests.docs import README, ROOT, doc_paths, read_doc

MAX_README_LINES = 300
FENCE = re.compile(r"^ {0,3}(```|~~~)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SHELL_OPERATORS = set("();<>|&")


def code_blocks(text: str) -> list[list[str]]:
    """The lines of each fenced code block, in order."""
    blocks, current = [], None
    for line in text.splitlines():
        if FENCE.match(line):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def prose(text: str) -> str:
    """The text with every fenced code block blanked (a `#` there is no heading, a `[x](y)` no link)."""
    lines, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            lines.append("")
        else:
            lines.append("" if inside else line)
    return "\n".join(lines)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, spaces to '-', punctuation but '-' and '_' dropped."""
    kept = []
    for char in heading.strip().lower():
        if char in " -" or char == "_" or unicodedata.category(char)[0] in "LMN":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(path: str) -> set[str]:
    """Every heading anchor of a page, repeated headings numbered as GitHub numbers them (-1, -2, ...)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose(read_doc(path)).splitlines():
        match = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        anchor = github_anchor(match.group(1))
        if anchor in seen:
            seen[anchor] += 1
            anchor = f"{anchor}-{seen[anchor]}"
        else:
            seen[anchor] = 0
        found.add(anchor)
    return found


def relative_links(path: str) -> list[str]:
    return [target for target in LINK.findall(prose(read_doc(path)))
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto: leave the project


def readme_pages() -> list[str]:
    return sorted({target.split("#")[0] for target in relative_links(README)
                   if target.startswith("docs/") and target.split("#")[0].endswith(".md")})


# --------------------------------------------------------------------------- #
# The front door
# --------------------------------------------------------------------------- #


def test_the_readme_is_short_enough_to_read_in_minutes():
    lines = read_doc(README).splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; the rest belongs in docs/"


def test_the_readme_holds_its_parts_in_order():
    headings = re.findall(r"^## (.+)$", prose(read_doc(README)), re.M)
    assert headings == ["Quickstart", "Prerequisites for a real release", "The five release steps", "Documentation"]


def test_every_page_the_readme_lists_exists_and_every_page_is_listed():
    listed = readme_pages()
    assert listed, "the README links no page under docs/"
    for page in listed:
        assert (ROOT / page).is_file(), f"README.md lists {page}, which does not exist"
    on_disk = sorted(p for p in doc_paths() if p != README)
    assert listed == on_disk, f"pages under docs/ the README does not list: {sorted(set(on_disk) - set(listed))}"


@pytest.mark.parametrize("page", [p for p in doc_paths() if p != README])
def test_each_page_says_what_task_it_serves_and_links_back(page):
    lines = [line for line in read_doc(page).splitlines() if line.strip()]
    assert lines[0].startswith("# "), f"{page} does not start with its title"
    assert "](../README.md)" in lines[1], f"{page}: the line after the title must say its task and link to the README"


def test_the_five_release_steps_are_the_release_order_channelctl_runs():
    from channelctl.project import RELEASE_ORDER

    section = read_doc(README).split("## The five release steps", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d) \| [^|`]*`([a-z]+)`", section, re.M)
    assert [(int(n), role) for n, role in rows] == [(n, role) for n, role, _ in RELEASE_ORDER]


def test_the_readme_states_the_lambda_concurrency_the_stack_leaves_unreserved():
    from components.aws_limits import LAMBDA_UNRESERVED_MIN

    assert f"must leave {LAMBDA_UNRESERVED_MIN} executions unreserved" in " ".join(read_doc(README).split())


# --------------------------------------------------------------------------- #
# Links
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("path", doc_paths())
def test_every_relative_link_and_anchor_resolves(path):
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), file_part)) if file_part else path
        if not (ROOT / resolved).exists():
            broken.append(f"{target}: no file {resolved}")
        elif anchor and not resolved.endswith(".md"):
            broken.append(f"{target}: an anchor into a file that is not a markdown page")
        elif anchor and anchor not in anchors(resolved):
            broken.append(f"{target}: {resolved} has no heading with the anchor #{anchor}")
    assert not broken, f"{path}: broken links:\n" + "\n".join(broken)


def test_the_anchor_rule_is_githubs():
    assert github_anchor("`channelctl plan --compare`: what a change does, before it runs") == (
        "channelctl-plan---compare-what-a-change-does-before-it-runs")
    assert github_anchor("Migration step: import the broker's credentials") == (
        "migration-step-import-the-brokers-credentials")
    assert github_anchor("Keep-alive and idle timeouts, hop by hop") == "keep-alive-and-idle-timeouts-hop-by-hop"


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


def commands_in_line(line: str) -> list[list[str]]:
    """channelctl's arguments for each channelctl command of one shell line.

    A command is `channelctl` (`.venv/bin/channelctl`, any directory) or `python -m channelctl` at the
    start of a simple command: the line's start or after `|`, `&&`, `;`, past any `VAR=value`. Its
    arguments end at the next shell operator (a pipe, a redirection); comments are dropped. A line
    that is not valid shell raises ValueError.
    """
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, segment = [], []
    for token in [*lexer, ";"]:
        if set(token) <= SHELL_OPERATORS:
            args = channelctl_arguments(segment)
            if args is not None:
                commands.append(args)
            # A redirection's target is no command: skip to the next command separator.
            segment = [] if token in {"|", "||", "&&", ";", "&"} else ["<redirected>"]
        elif segment != ["<redirected>"]:
            segment.append(token)
    return commands


def channelctl_arguments(tokens: list[str]) -> list[str] | None:
    while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
        tokens = tokens[1:]
    if not tokens:
        return None
    program = posixpath.basename(tokens[0])
    if program == "channelctl":
        return tokens[1:]
    if re.fullmatch(r"python3?(\.\d+)?", program) and tokens[1:3] == ["-m", "channelctl"]:
        return tokens[3:]
    return None


def shown_commands(path: str) -> list[tuple[str, list[str]]]:
    """(line as shown, channelctl's arguments) for every channelctl command in the page's code blocks.

    A line continued with a trailing backslash is joined with the next one first.
    """
    found = []
    for block in code_blocks(read_doc(path)):
        joined, pending = [], ""
        for line in block:
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            joined.append(pending + line)
            pending = ""
        for line in joined:
            if not re.search(r"\bchannelctl\b", line):
                continue
            # What the program prints starts with its name, the sub-command and a colon
            # ("channelctl plan: Pulumi.iot.yaml: ..."): output shown as output, not a command.
            if re.match(r"^\s*channelctl [a-z-]+: ", line):
                continue
            try:
                commands = commands_in_line(line)
            except ValueError as err:
                commands = [[f"<not valid shell: {err}>"]]
            found.extend((" ".join(line.split()), args) for args in commands)
    return found


ALL_COMMANDS = [(path, line, args) for path in doc_paths() for line, args in shown_commands(path)]


def test_the_pages_show_commands_of_every_sub_command():
    shown = {args[0] for _, _, args in ALL_COMMANDS if args}
    assert {"plan", "up", "devices"} <= shown, shown


def test_every_channelctl_command_shown_parses():
    parser = build_parser()
    refused = []
    for path, line, args in ALL_COMMANDS:
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                parser.parse_args(args)
        except SystemExit as exit_:
            if exit_.code in (0, None):  # `--help` and the like: accepted
                continue
            message = (stderr.getvalue().strip().splitlines() or ["(no message)"])[-1]
            refused.append(f"{path}: {line}\n    {message}")
    assert not refused, "commands the CLI refuses:\n" + "\n".join(refused)


def test_the_command_finder_finds_what_it_should():
    examples = {
        ".venv/bin/channelctl plan --format json > plan.json   # machine-readable": [["plan", "--format", "json"]],
        "git stash && channelctl plan --format json > deployed.json && git stash pop": [["plan", "--format", "json"]],
        "printf '%s\\n' \"$P\" | channelctl devices set-password m-1 --password-stdin":
            [["devices", "set-password", "m-1", "--password-stdin"]],
        ".venv/bin/python -m channelctl plan --cwd path/to/project": [["plan", "--cwd", "path/to/project"]],
        "AWS_DEFAULT_REGION=us-west-2 channelctl devices list": [["devices", "list"]],
        ". .venv/bin/activate   # channelctl on PATH": [],
        "channelctl up --org <org> --create": [["up", "--org"]],  # `<org>` is a redirection to the shell
    }
    for line, expected in examples.items():
        assert commands_in_line(line) == expected, line
