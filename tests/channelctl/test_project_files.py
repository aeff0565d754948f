"""The project directory and the stack files' layout: a missing project file, a directory that is not
there, and settings written beside ``config:`` are refused in one line that says where and how to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelctl.project import ProjectError, load_project

PROJECT_YAML = "name: private-mqtt-channel\nruntime: python\n"
NETWORK = 'config:\n  private-mqtt-channel:accountId: "111111111111"\n  private-mqtt-channel:region: us-west-2\n'


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def refusal(directory: Path) -> str:
    with pytest.raises(ProjectError) as caught:
        load_project(directory)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- the project file -------------------------------------------------------------------------------


def test_stack_files_without_a_project_file_name_the_project_and_both_fixes(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.network.yaml", NETWORK)
    write(tmp_path, "Pulumi.iot.yaml", "config:\n  private-mqtt-channel:region: us-west-2\n")

    message = refusal(tmp_path)

    assert message.startswith(f"Pulumi.yaml: not found in {tmp_path}, which holds stack files "
                              "(Pulumi.iot.yaml, Pulumi.network.yaml) but no project file")
    assert "point --cwd at the project directory" in message
    # The name comes from the stack files' namespace, which the project file must match.
    assert message.endswith("or copy the stack files there; the stack files name the project 'private-mqtt-channel'")


def test_a_project_file_beside_the_stack_files_makes_the_directory_a_project(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.network.yaml", NETWORK)
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)

    project = load_project(tmp_path)

    assert project.name == "private-mqtt-channel" and list(project.stacks) == ["network"]
    assert project.stacks["network"].config["accountId"] == "111111111111"


def test_a_directory_that_does_not_exist_is_named_as_such(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"

    assert refusal(missing) == (f"{missing}: no such directory — point --cwd at the project directory (the one "
                                "holding Pulumi.yaml and the Pulumi.<stack>.yaml files)")


def test_a_file_given_as_the_directory_is_named_as_such(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)

    assert refusal(tmp_path / "Pulumi.yaml").startswith(f"{tmp_path / 'Pulumi.yaml'}: is not a directory — point --cwd")


def test_an_empty_directory_says_where_to_run(tmp_path: Path) -> None:
    assert refusal(tmp_path).startswith(f"Pulumi.yaml: not found in {tmp_path} — run from the project directory or "
                                        "point --cwd at it")


# --- settings beside config: ----------------------------------------------------------------------


def test_keys_written_without_the_config_wrapper_are_refused_naming_one(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    # The example network stack's first lines, with the `config:` line left out and the keys unindented.
    write(tmp_path, "Pulumi.network.yaml",
          'private-mqtt-channel:accountId: "111111111111"\nprivate-mqtt-channel:region: us-west-2\n')

    assert refusal(tmp_path) == (
        "Pulumi.network.yaml: key 'private-mqtt-channel:accountId' and 1 other key are at the top level of the file, "
        "outside 'config:', so Pulumi never reads them — stack settings go under 'config:': add a line 'config:' "
        "above them and indent each key under it")


def test_one_key_beside_config_is_refused_too(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    write(tmp_path, "Pulumi.network.yaml", NETWORK + "private-mqtt-channel:iotAccountId: \"222222222222\"\n")

    message = refusal(tmp_path)

    assert message.startswith("Pulumi.network.yaml: key 'private-mqtt-channel:iotAccountId' is at the top level")
    assert "Pulumi never reads it — " in message


def test_a_bare_top_level_key_is_refused_with_the_namespaced_form(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    write(tmp_path, "Pulumi.network.yaml", "region: us-west-2\n" + NETWORK)

    assert refusal(tmp_path) == (
        "Pulumi.network.yaml: top-level key 'region' is not a stack-file key (Pulumi reads only config, environment, "
        "secretsprovider, encryptedkey, encryptionsalt there) — write a setting under 'config:' as "
        "'private-mqtt-channel:region', or remove it")


def test_the_keys_pulumi_writes_beside_config_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, "Pulumi.yaml", PROJECT_YAML)
    write(tmp_path, "Pulumi.network.yaml",
          "secretsprovider: awskms://alias/pulumi\nencryptedkey: AQICAHg=\nencryptionsalt: v1:abc:def\n"
          "environment:\n  - acme/aws\n" + NETWORK)

    assert load_project(tmp_path).stacks["network"].config["region"] == "us-west-2"
