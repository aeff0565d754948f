"""`channelctl plan` on bad input: one line on stderr naming the file and the key, the bad value and
the fix, exit 2, nothing on stdout — and the input next to it that the plan accepts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from benchmarks.plan_bench import copy_project, generate_consumers
from channelctl.cli import main
from channelctl.plan.build import EXIT_BAD_INPUT, EXIT_OK
from tests.channelctl.plan.test_plan_support import ROOT


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new))


def bad_input(capsys, directory: Path) -> str:
    code = main(["plan", "--cwd", str(directory)])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, captured.err
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0].removeprefix("channelctl plan: ")


# --- 1. the project directory -------------------------------------------------------------------


def test_stack_files_without_pulumi_yaml(tmp_path, capsys):
    for path in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)

    assert bad_input(capsys, tmp_path) == (
        f"Pulumi.yaml: not found in {tmp_path}, which holds stack files (Pulumi.consumer.yaml, Pulumi.iot.yaml, "
        "Pulumi.network.yaml) but no project file — point --cwd at the project directory (the repository's root, "
        "holding Pulumi.yaml and __main__.py), or copy the stack files there; the stack files name the project "
        "'private-mqtt-channel'")


def test_a_project_file_without_the_program(tmp_path, capsys):
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)

    assert bad_input(capsys, tmp_path) == (
        f"__main__.py: not found in {tmp_path}, which holds Pulumi.yaml but not the project's program — the plan "
        "runs the program: point --cwd at the project directory (the repository's root, holding Pulumi.yaml, "
        "__main__.py and components/), with the Pulumi.<stack>.yaml files there")


def test_a_directory_that_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "nowhere"

    assert bad_input(capsys, missing) == (
        f"{missing}: no such directory — point --cwd at the project directory (the one holding Pulumi.yaml and the "
        "Pulumi.<stack>.yaml files)")


# --- 2. private ranges --------------------------------------------------------------------------


def test_a_public_device_vpc_range(tmp_path, capsys):
    project = copy_project(tmp_path)
    edit(project / "Pulumi.network.yaml", "deviceVpcCidr: 10.10.0.0/16", "deviceVpcCidr: 100.10.0.0/16")

    message = bad_input(capsys, project)

    assert message == (
        "Pulumi.network.yaml: configuration error: deviceVpcCidr 100.10.0.0/16 is a range holding public addresses "
        "— the channel is private: use a private range, inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or "
        "100.64.0.0/10")


# --- 3. settings outside config: ----------------------------------------------------------------


def test_stack_keys_without_the_config_wrapper(tmp_path, capsys):
    project = copy_project(tmp_path)
    path = project / "Pulumi.network.yaml"
    lines = [line for line in path.read_text().splitlines() if line != "config:"]
    path.write_text("\n".join(line[2:] if line.startswith("  ") else line for line in lines) + "\n")
    assert path.read_text().splitlines()[2] == 'private-mqtt-channel:accountId: "111111111111"'

    message = bad_input(capsys, project)

    assert message.startswith("Pulumi.network.yaml: key 'private-mqtt-channel:accountId' and 11 other keys are at "
                              "the top level of the file, outside 'config:'")
    assert message.endswith("add a line 'config:' above them and indent each key under it")


# --- 4. Direct Connect ASNs ---------------------------------------------------------------------


def test_a_customer_asn_equal_to_the_dx_gateway_asn(tmp_path, capsys):
    project = copy_project(tmp_path)
    edit(project / "Pulumi.network.yaml", "customerAsn: 65010", "customerAsn: 64513")

    assert bad_input(capsys, project) == (
        "Pulumi.network.yaml: configuration error: directConnect.customerAsn 64513 equals directConnect.gatewayAsn "
        "64513 (the Direct Connect gateway's Amazon side ASN) — BGP needs a different ASN on each side: give the "
        "on-premises router's own ASN as customerAsn, or choose another private ASN for gatewayAsn")


# --- 7. the authorizer's reserved concurrency ----------------------------------------------------


@pytest.mark.parametrize("value,pattern", [
    (0, r"^Pulumi\.iot\.yaml: configuration error: authorizer\.reservedConcurrency 0 is below 1 — it would throttle "
        r"every connection; set it to at least 71 \(166\.7 CONNECT/s x 210\.4 ms \+ .*\), or unset "
        r"the key \(no reservation\)$"),
    # The account's quota is read at render (1,000 by default): at most 900 may be reserved.
    (5000, r"^Pulumi\.iot\.yaml: configuration error: authorizer\.reservedConcurrency 5000 would leave 0 of the "
           r"account's 1,000 Lambda concurrent executions unreserved.* — lower authorizer\.reservedConcurrency to "
           r"71 \(166\.7 CONNECT/s x 210\.4 ms \+ .*\), at most 900; request a quota increase; or "
           r"unset it \(no reservation\)$"),
])
def test_a_reserved_concurrency_out_of_bounds_suggests_the_sized_value(tmp_path, capsys, value, pattern):
    project = copy_project(tmp_path)
    iot = project / "Pulumi.iot.yaml"
    edit(iot, "reservedConcurrency: 120", f"reservedConcurrency: {value}")
    edit(iot, "unknownUserHash: mosquitto-pbkdf2:101", "unknownUserHash: scrypt")

    message = bad_input(capsys, project)

    assert re.search(pattern, message), message
    if value == 5000:  # docs/configuration.md shows this refusal
        assert message in (ROOT / "docs" / "configuration.md").read_text().splitlines()


# --- 6. consumers sharing a VPC range -----------------------------------------------------------


def test_two_consumer_stacks_with_the_same_vpc_range_plan_and_pass(tmp_path, capsys):
    project = copy_project(tmp_path)
    generate_consumers(project, 2)
    for path in project.glob("Pulumi.*.yaml"):
        path.write_text(path.read_text().replace("10.102.0.0/16", "10.101.0.0/16"))
    assert (project / "Pulumi.iot.yaml").read_text().count("vpcCidr: 10.101.0.0/16") == 2

    code = main(["plan", "--cwd", str(project)])
    captured = capsys.readouterr()

    assert code == EXIT_OK, captured.out[-2000:] + captured.err
    checks = re.findall(r"^  PASS ([\w:-]+):", captured.out, re.M)
    assert {"consumer-path:consumer-1", "consumer-path:consumer-2"} <= set(checks)
    assert captured.out.rstrip().endswith(f"PASS: all {len(checks)} checks passed")
