"""The pack as the Pulumi engine sees it: ``python policies/`` serving the Analyzer gRPC API on 127.0.0.1."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from policies.authorizers import AUTHORIZER_RULES
from policies.observability import STACK_RULES
from policies.rules import INTERNET_GATEWAY, RULES, VPC_ENDPOINT_SERVICE

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # The engine starts the pack from another directory with unbuffered output and reads the
    # port from its first line of stdout; do the same.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "policies")],
        cwd=tmp_path_factory.mktemp("engine"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=STARTUP_TIMEOUT_S):
            pytest.fail(f"policy pack printed no port within {STARTUP_TIMEOUT_S}s")
        line = process.stdout.readline().strip()
        if not line.isdigit():
            process.kill()
            pytest.fail(f"policy pack did not start: stdout {line!r}, stderr {process.stderr.read()!r}")
        with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, resource_type: str, props: dict) -> list:
    properties = struct_pb2.Struct()
    properties.update(props)
    request = proto.AnalyzeRequest(
        type=resource_type,
        properties=properties,
        urn=f"urn:pulumi:network::private-mqtt-channel::{resource_type}::r",
        name="r",
    )
    return list(stub.Analyze(request, timeout=20).diagnostics)


def test_pack_declares_every_rule_as_mandatory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)

    assert info.name == "private-mqtt-channel"
    assert {p.name: p.enforcementLevel for p in info.policies} == {rule.name: proto.MANDATORY for rule in (*RULES, *STACK_RULES, *AUTHORIZER_RULES)}


def test_pack_reports_a_violation_as_mandatory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    diagnostics = analyze(analyzer, INTERNET_GATEWAY, {"vpcId": "vpc-1"})

    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
        ("allowed-types-only", proto.MANDATORY), ("no-internet-path", proto.MANDATORY)]
    assert "not a type the channel declares" in diagnostics[0].message
    assert "declares an internet gateway" in diagnostics[1].message


def test_pack_passes_a_compliant_resource(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    compliant = {"acceptanceRequired": True, "allowedPrincipals": ["arn:aws:iam::333333333333:root"]}
    assert analyze(analyzer, VPC_ENDPOINT_SERVICE, compliant) == []

    open_service = {"acceptanceRequired": True, "allowedPrincipals": ["*"]}
    assert [d.policyName for d in analyze(analyzer, VPC_ENDPOINT_SERVICE, open_service)] == ["endpoint-service-restricted"]
