"""Reading the project's stack files and deriving the release order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from channelctl.project import RELEASE_ORDER, ROLES, ProjectError, deployment_steps, load_project

REPO_ROOT = Path(__file__).resolve().parents[2]

PROJECT_YAML = """\
name: private-mqtt-channel
runtime:
  name: python
config:
  pulumi:disable-default-providers:
    value:
      - aws
  private-mqtt-channel:expectedDevices:
    default: 1000
  topicPrefix:
    type: string
    default: plant
  private-mqtt-channel:described:
    type: string
    description: declared without a value
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    write(tmp_path, "Pulumi.network.yaml", "config:\n  private-mqtt-channel:accountId: '111111111111'\n")
    write(
        tmp_path,
        "Pulumi.iot.yaml",
        "config:\n"
        "  private-mqtt-channel:accountId: '222222222222'\n"
        "  private-mqtt-channel:expectedDevices: '250000'\n"
        "  private-mqtt-channel:consumers:\n"
        "    - name: legacy\n"
        "      accountId: '333333333333'\n"
        "  private-mqtt-channel:apiKey:\n"
        "    secure: AAABAJ0p3J9=\n"
        "  aws:region: eu-central-1\n",
    )
    write(tmp_path, "Pulumi.consumer-legacy.yaml", "config:\n  private-mqtt-channel:accountId: '333333333333'\n")
    write(
        tmp_path,
        "Pulumi.thirdparty.yaml",
        "config:\n  private-mqtt-channel:role: consumer\n  private-mqtt-channel:accountId: '444444444444'\n",
    )
    return tmp_path


def test_loads_every_stack_with_its_role(project_dir: Path) -> None:
    project = load_project(project_dir)

    assert project.name == "private-mqtt-channel"
    assert project.directory == project_dir
    assert list(project.stacks) == ["consumer-legacy", "iot", "network", "thirdparty"]
    assert {name: s.role for name, s in project.stacks.items()} == {
        "consumer-legacy": "consumer",  # first word of the stack name
        "iot": "iot",
        "network": "network",
        "thirdparty": "consumer",  # the role key wins over the name
    }
    assert project.stacks["iot"].path == project_dir / "Pulumi.iot.yaml"


def test_config_keys_lose_the_project_prefix_and_keep_parsed_values(project_dir: Path) -> None:
    iot = load_project(project_dir, ["iot"]).stacks["iot"]

    assert iot.config["accountId"] == "222222222222"
    assert iot.config["consumers"] == [{"name": "legacy", "accountId": "333333333333"}]
    assert iot.config["apiKey"] == {"secure": "AAABAJ0p3J9="}
    assert iot.secret_keys == frozenset({"apiKey"})
    assert "aws:region" not in iot.config
    assert iot.other_config["aws:region"] == "eu-central-1"


def test_project_level_values_apply_unless_the_stack_sets_its_own(project_dir: Path) -> None:
    project = load_project(project_dir, ["iot", "network"])

    assert project.stacks["iot"].config["expectedDevices"] == "250000"  # the stack's own value
    assert project.stacks["network"].config["expectedDevices"] == 1000  # Pulumi.yaml default
    assert project.stacks["network"].config["topicPrefix"] == "plant"  # unprefixed project key
    assert "described" not in project.stacks["network"].config  # declared, no value
    assert project.stacks["network"].other_config["pulumi:disable-default-providers"] == ["aws"]


def test_named_stacks_keep_the_given_order(project_dir: Path) -> None:
    project = load_project(project_dir, ["network", "iot", "network"])
    assert list(project.stacks) == ["network", "iot"]


@pytest.mark.parametrize(
    ("files", "stacks", "pattern"),
    [
        (
            {"Pulumi.iot.yaml": "config:\n  private-mqtt-channel:role: gateway\n"},
            None,
            r"^Pulumi\.iot\.yaml: config key 'private-mqtt-channel:role': 'gateway' is not a role — "
            r"use network, iot or consumer$",
        ),
        (
            {"Pulumi.gateway.yaml": "config: {}\n"},
            None,
            r"^Pulumi\.gateway\.yaml: stack name 'gateway' does not start with a role and config key "
            r"'private-mqtt-channel:role' is not set — name the stack",
        ),
        (
            {},
            ["staging"],
            r"^Pulumi\.staging\.yaml: no such file for stack 'staging' in .* — create it with 'pulumi stack init staging'",
        ),
        (
            {"Pulumi.iot.yaml": "config:\n  private-mqtt-channel:accountId: [1, 2\n  other: x\n"},
            None,
            r"^Pulumi\.iot\.yaml: line \d+: .* — fix the YAML syntax$",
        ),
        (
            {"Pulumi.iot.yaml": "config:\n  role: iot\n"},
            None,
            r"^Pulumi\.iot\.yaml: config key 'role' has no namespace — write it as 'private-mqtt-channel:role'$",
        ),
        (
            {"Pulumi.iot.yaml": "- config\n"},
            None,
            r"^Pulumi\.iot\.yaml: expected a mapping at the top level, found list",
        ),
        (
            {"Pulumi.iot.yaml": "config: iot\n"},
            None,
            r"^Pulumi\.iot\.yaml: key 'config' must map '<namespace>:<key>' to values, found str",
        ),
        (
            {},
            ["acme/network"],
            r"^Pulumi\.acme/network\.yaml: stack name 'acme/network' is not valid — pass the short stack name \(network\)$",
        ),
    ],
)
def test_bad_stack_files_name_file_key_and_fix(
    tmp_path: Path, files: dict[str, str], stacks: list[str] | None, pattern: str
) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    for name, text in files.items():
        write(tmp_path, name, text)

    with pytest.raises(ProjectError, match=pattern) as caught:
        load_project(tmp_path, stacks)
    assert "\n" not in str(caught.value)


def test_malformed_yaml_reports_the_right_line(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    write(tmp_path, "Pulumi.iot.yaml", "config:\n  private-mqtt-channel:a: 1\n  private-mqtt-channel:b: 'open\n")

    with pytest.raises(
        ProjectError,
        match=r"^Pulumi\.iot\.yaml: line 4: found unexpected end of stream "
        r"\(while scanning a quoted scalar started on line 3\) — fix the YAML syntax$",
    ):
        load_project(tmp_path)


def test_missing_project_file_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"^Pulumi\.yaml: not found in .* point --cwd at it"):
        load_project(tmp_path)


def test_project_file_without_name(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", "runtime: python\n")
    with pytest.raises(ProjectError, match=r"^Pulumi\.yaml: key 'name' is None — set it"):
        load_project(tmp_path)


def test_the_repository_project_loads() -> None:
    project = load_project(REPO_ROOT)

    assert project.name == "private-mqtt-channel"
    assert all(stack.role in ROLES for stack in project.stacks.values())


def test_release_order_for_a_full_project(project_dir: Path) -> None:
    steps = deployment_steps(load_project(project_dir))

    assert [(s.number, s.stack, s.role) for s in steps] == [
        (1, "network", "network"),
        (2, "iot", "iot"),
        (3, "network", "network"),
        (4, "consumer-legacy", "consumer"),
        (4, "thirdparty", "consumer"),
        (5, "iot", "iot"),
    ]
    assert "Transit Gateway" in steps[0].description
    assert "accept the consumers' endpoint connections" in steps[-1].description


def test_release_order_skips_steps_without_a_selected_stack(project_dir: Path) -> None:
    only_iot_and_consumer = deployment_steps(load_project(project_dir, ["thirdparty", "iot"]))
    assert [(s.number, s.stack) for s in only_iot_and_consumer] == [(2, "iot"), (4, "thirdparty"), (5, "iot")]

    only_consumer = deployment_steps(load_project(project_dir, ["consumer-legacy"]))
    assert [(s.number, s.stack) for s in only_consumer] == [(4, "consumer-legacy")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(ROLES), min_size=0, max_size=6))
def test_release_order_invariants(tmp_path_factory: pytest.TempPathFactory, roles: list[str]) -> None:
    directory = tmp_path_factory.mktemp("project")
    write(directory, "Pulumi.yaml", "name: private-mqtt-channel\n")
    names = []
    for index, role in enumerate(roles):
        name = f"{role}-{index}"
        names.append(name)
        write(directory, f"Pulumi.{name}.yaml", "config: {}\n")

    steps = deployment_steps(load_project(directory))

    numbers = [s.number for s in steps]
    assert numbers == sorted(numbers)
    expected_runs = {"network": 2, "iot": 2, "consumer": 1}
    for name, role in zip(names, roles):
        assert [s.number for s in steps if s.stack == name] == {
            "network": [1, 3], "iot": [2, 5], "consumer": [4]
        }[role]
        assert sum(1 for s in steps if s.stack == name) == expected_runs[role]


# --- the deploy workflow runs the same release order -----------------------------------------

DEPLOY_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "deploy.yml"


def workflow_release_roles(workflow: dict) -> list[str]:
    """The roles the workflow's jobs deploy, following the ``needs`` chain from its first job."""
    jobs = workflow["jobs"]
    needs = {name: job.get("needs") for name, job in jobs.items()}
    firsts = [name for name, need in needs.items() if not need]
    assert len(firsts) == 1, f"the release must start with one job, found {firsts}"
    order = [firsts[0]]
    while True:
        following = [name for name, need in needs.items() if need in (order[-1], [order[-1]])]
        if not following:
            break
        assert len(following) == 1, f"{order[-1]} is followed by {following}: the release must be one chain"
        order.append(following[0])
    assert len(order) == len(jobs), f"jobs outside the chain: {set(jobs) - set(order)}"

    roles = []
    for name in order:
        job = jobs[name]
        up = channelctl_up(job)
        stack = up["--stacks"]
        stacks = [entry["stack"] for entry in job["strategy"]["matrix"]["include"]] if stack == '"$STACK"' else [stack]
        job_roles = {s.split("-", 1)[0] for s in stacks}
        assert len(job_roles) == 1, f"job {name} mixes roles {job_roles}"
        roles.append(job_roles.pop())
    return roles


def channelctl_up(job: dict) -> dict[str, str]:
    """The job's one `channelctl up` command line, as option -> value ('' for a flag)."""
    (line,) = [line.strip() for s in job["steps"] for line in str(s.get("run", "")).splitlines()
               if "channelctl up " in line]
    words = line.split()
    options: dict[str, str] = {}
    for index, word in enumerate(words):
        if word.startswith("--"):
            following = words[index + 1] if index + 1 < len(words) else ""
            options[word] = "" if following.startswith("--") or not following else following
    return options


def test_the_deploy_workflow_follows_the_release_order() -> None:
    workflow = yaml.safe_load(DEPLOY_WORKFLOW.read_text(encoding="utf-8"))

    assert workflow_release_roles(workflow) == [role for _, role, _ in RELEASE_ORDER]
    jobs = list(workflow["jobs"].values())
    for (number, _, _), job in zip(RELEASE_ORDER, jobs):
        assert job.get("environment"), f"{job['name']} runs without an environment (no approval gate)"
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, job["name"]
        up = channelctl_up(job)
        # One step per job, never a confirmation prompt, no --preview, the default policy pack (policies/).
        assert up["--steps"] == str(number) and "--yes" in up and "--preview" not in up, job["name"]
        assert "--policy-pack" not in up and up["--org"] == '"$PULUMI_ORG"', job["name"]
        # Only the passes that first deploy a stack may create one, and only on a manual first release.
        run = next(s["run"] for s in job["steps"] if "channelctl up " in str(s.get("run", "")))
        if number in (3, 5):
            assert "--create" not in run, job["name"]
        else:
            assert '"${create[@]}"' in run and 'if [ "$FIRST_RELEASE" = "true" ]; then create=(--create); fi' in run
            assert next(s for s in job["steps"] if "run" in s and "channelctl up " in s["run"])["env"][
                "FIRST_RELEASE"] == "${{ inputs.first-release }}"
    assert workflow[True]["workflow_dispatch"]["inputs"]["first-release"]["default"] is False


def test_a_reordered_deploy_workflow_is_caught() -> None:
    workflow = yaml.safe_load(DEPLOY_WORKFLOW.read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    # Run the consumers straight after step 2, before the network stack accepts the attachment.
    jobs["step-4-consumers"]["needs"] = "step-2-iot"
    jobs["step-3-network"]["needs"] = "step-4-consumers"
    jobs["step-5-iot"]["needs"] = "step-3-network"

    assert workflow_release_roles(workflow) == ["network", "iot", "consumer", "network", "iot"]
    assert workflow_release_roles(workflow) != [role for _, role, _ in RELEASE_ORDER]
