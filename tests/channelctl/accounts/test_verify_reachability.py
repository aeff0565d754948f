"""`channelctl verify`'s reachability check (Reachability Analyzer through botocore's Stubber) and the
network and consumer stacks' accounts (moto): the paths it analyses, what it says when there is no
path, and that it deletes every path and analysis it created, whatever the outcome."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY

from channelctl.accounts.verify import open_target, verify
from channelctl.accounts.verify_probes import check_reachability
from tests.channelctl.accounts.verify_support import REGION, Calls, fake_aws, new_session, seed
from tests.channelctl.plan.test_plan_support import example_plan

IOT_ACCOUNT = "222222222222"
ANALYSIS_CALLS = {"CreateNetworkInsightsPath", "StartNetworkInsightsAnalysis", "DeleteNetworkInsightsAnalysis",
                  "DeleteNetworkInsightsPath"}


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture
def aws(monkeypatch):
    with fake_aws(monkeypatch):
        session = new_session(region_name=REGION)
        yield session, Calls(session)


@pytest.fixture
def network(plan, aws):
    """The network account and, for the iot.data endpoints' interfaces, the iot account."""
    return seed(plan, "iot"), seed(plan, "network")


@pytest.fixture
def consumer(plan, aws):
    iot = seed(plan, "iot")
    service = iot.named("gatekeeper-endpoint-service")
    return iot, seed(plan, "consumer", service_names={service.state["serviceName"]: iot.real[service.id]["ServiceName"]})


def path_id(n: int) -> str:
    return f"nip-{n:017x}"


def analysis_id(n: int) -> str:
    return f"nia-{n:017x}"


def stub_analyses(calls: Calls, count: int, results: dict[int, dict[str, Any]] | None = None,
                  rounds: int = 1, finish: bool = True) -> None:
    """``count`` paths created and started, ``rounds`` reads of their analyses (the last, when they
    ``finish``, with ``results`` by number: succeeded with a path unless given), then every one deleted."""
    ec2 = calls.stub("ec2")
    for n in range(1, count + 1):
        ec2.add_response("create_network_insights_path", {"NetworkInsightsPath": {
            "NetworkInsightsPathId": path_id(n), "Protocol": "tcp"}},
            {"Source": ANY, "Destination": ANY, "Protocol": "tcp", "DestinationPort": ANY,
             "TagSpecifications": ANY, "ClientToken": ANY})
        ec2.add_response("start_network_insights_analysis", {"NetworkInsightsAnalysis": {
            "NetworkInsightsAnalysisId": analysis_id(n), "NetworkInsightsPathId": path_id(n), "Status": "running"}},
            {"NetworkInsightsPathId": path_id(n), "TagSpecifications": ANY, "ClientToken": ANY})
    ids = sorted(analysis_id(n) for n in range(1, count + 1))
    for round_ in range(1, rounds + 1):
        analyses = []
        for n in range(1, count + 1):
            if round_ < rounds or not finish:
                analyses.append({"NetworkInsightsAnalysisId": analysis_id(n), "Status": "running"})
            else:
                analyses.append({"NetworkInsightsAnalysisId": analysis_id(n), "Status": "succeeded",
                                 "NetworkPathFound": True, "ForwardPathComponents": [
                                     {"SequenceNumber": 1, "Component": {"Id": "tgw-attach-0"}}]}
                                | (results or {}).get(n, {}))
        ec2.add_response("describe_network_insights_analyses", {"NetworkInsightsAnalyses": analyses},
                         {"NetworkInsightsAnalysisIds": ids})
    for n in range(1, count + 1):
        ec2.add_response("delete_network_insights_analysis", {"NetworkInsightsAnalysisId": analysis_id(n)},
                         {"NetworkInsightsAnalysisId": analysis_id(n)})
    for n in range(1, count + 1):
        ec2.add_response("delete_network_insights_path", {"NetworkInsightsPathId": path_id(n)},
                         {"NetworkInsightsPathId": path_id(n)})


def reachability(report: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == "reachability")


def assert_deleted_what_it_created(calls: Calls) -> None:
    created_paths = [path_id(n) for n in range(1, len(calls.called("CreateNetworkInsightsPath")) + 1)]
    started = [analysis_id(n) for n in range(1, len(calls.called("StartNetworkInsightsAnalysis")) + 1)]
    assert [p["NetworkInsightsPathId"] for p in calls.called("DeleteNetworkInsightsPath")] == created_paths
    assert [p["NetworkInsightsAnalysisId"] for p in calls.called("DeleteNetworkInsightsAnalysis")] == started
    calls.assert_all_answered()


def test_the_network_stack_proves_the_device_paths_and_deletes_them(plan, aws, network):
    session, calls = aws
    iot, net = network
    stub_analyses(calls, 8)
    report = verify(plan, "network", session=session)
    assert report["verdict"] == "PASS: 2 of 4 checks passed, 2 not run (dns, authorizer)", report["checks"]
    created = calls.called("CreateNetworkInsightsPath")
    attachment = net.ids[net.named("channel-device-attachment").id]
    enis = {eni for name in ("gatekeeper-iot-data-0", "gatekeeper-iot-data-1")
            for eni in iot.real[iot.named(name, "aws:ec2/vpcEndpoint:VpcEndpoint").id]["NetworkInterfaceIds"]}
    assert {p["Source"] for p in created} == {attachment}
    assert {p["Destination"] for p in created} == {
        f"arn:aws:ec2:{REGION}:{IOT_ACCOUNT}:network-interface/{eni}" for eni in enis}
    assert sorted(p["DestinationPort"] for p in created) == [443] * 4 + [8883] * 4
    tags = created[0]["TagSpecifications"][0]["Tags"]
    assert {"Key": "created-by", "Value": "channelctl-verify"} in tags
    assert_deleted_what_it_created(calls)
    assert len(reachability(report)["verified"]) == 8


def test_an_analysis_that_finds_no_path_fails_naming_it_and_still_deletes(plan, aws, network):
    session, calls = aws
    stub_analyses(calls, 8, results={
        3: {"NetworkPathFound": False, "ForwardPathComponents": [], "Explanations": [
            {"ExplanationCode": "ENI_SG_RULES_MISMATCH", "SecurityGroup": {"Id": "sg-0aa11bb22cc33dd44"},
             "NetworkInterface": {"Id": "eni-0aa11bb22cc33dd44"}}]},
        6: {"Status": "failed", "StatusMessage": "Access denied to the resource in account 222222222222"},
    })
    report = verify(plan, "network", session=session)
    assert report["verdict"] == "FAIL: 1 of 4 checks failed (reachability)"
    problems = reachability(report)["problems"]
    assert len(problems) == 2
    assert "network:channel-device-attachment tgw-attach-" in problems[0] and "-> iot:gatekeeper-iot-data-" in problems[0]
    assert (f"Reachability Analyzer finds no path (analysis {analysis_id(3)}): ENI_SG_RULES_MISMATCH at "
            "sg-0aa11bb22cc33dd44, eni-0aa11bb22cc33dd44 — fix the component it names") in problems[0]
    assert f"analysis {analysis_id(6)} failed: Access denied" in problems[1]
    assert "trusted access for Reachability Analyzer" in problems[1] and "--no-reachability" in problems[1]
    assert_deleted_what_it_created(calls)


def test_an_analysis_still_running_at_the_timeout_fails_and_still_deletes(plan, aws, network):
    session, calls = aws
    stub_analyses(calls, 8, rounds=4, finish=False)
    now = [0.0]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    result = check_reachability(open_target(plan, "network", session), timeout=12, sleep=sleep, clock=lambda: now[0])
    assert not result.passed and slept == [5.0, 5.0, 5.0]
    assert len(result.problems) == 8 and all("still running after 12 s — raise --reachability-timeout" in p
                                             for p in result.problems)
    assert_deleted_what_it_created(calls)


def test_a_path_refused_across_accounts_fails_with_the_fix_and_deletes_nothing_uncreated(plan, aws, network):
    session, calls = aws
    for _ in range(8):
        calls.stub("ec2").add_client_error(
            "create_network_insights_path", service_error_code="InvalidParameterValue",
            service_message="The resource arn:aws:ec2:us-west-2:222222222222:network-interface/eni-x is in another "
                            "account", http_status_code=400)
    result = check_reachability(open_target(plan, "network", session))
    assert not result.passed and len(result.problems) == 8
    assert "Reachability Analyzer refused the path: ec2:CreateNetworkInsightsPath: InvalidParameterValue" in \
        result.problems[0]
    assert "register this stack's account as a delegated administrator for Reachability Analyzer" in result.problems[0]
    ops = {op for _, op in calls.operations}
    assert "DeleteNetworkInsightsPath" not in ops and "StartNetworkInsightsAnalysis" not in ops
    calls.assert_all_answered()


def test_no_reachability_creates_nothing(plan, aws, network):
    session, calls = aws
    report = verify(plan, "network", reachability=False, session=session)
    assert reachability(report)["status"] == "NOT RUN" and reachability(report)["notRun"] == "--no-reachability"
    assert not {op for _, op in calls.operations} & ANALYSIS_CALLS


def test_the_network_stacks_verify_writes_nothing_but_analyses(plan, aws, network):
    session, calls = aws
    stub_analyses(calls, 8)
    verify(plan, "network", session=session)
    sent = {op for _, op in calls.operations}
    assert ANALYSIS_CALLS <= sent
    assert all(op.startswith(("Describe", "Get", "List")) or op in ANALYSIS_CALLS | {"AssumeRole"}
               for op in sent), sorted(sent)


def test_the_consumer_stack_passes_and_proves_its_path_to_the_endpoint_service(plan, aws, consumer):
    session, calls = aws
    iot, con = consumer
    stub_analyses(calls, 2)
    report = verify(plan, "consumer", session=session)
    assert report["verdict"] == "PASS: 3 of 4 checks passed, 1 not run (authorizer)", report["checks"]
    service = iot.ids[iot.named("gatekeeper-endpoint-service").id]
    created = calls.called("CreateNetworkInsightsPath")
    assert [(p["Source"], p["Destination"], p["DestinationPort"]) for p in created] == [
        (con.ids[con.named("consumer-app").id], f"arn:aws:ec2:{REGION}:{IOT_ACCOUNT}:vpc-endpoint-service/{service}",
         port) for port in (8883, 443)]
    dns = next(c for c in report["checks"] if c["name"] == "dns")
    assert any("is an alias of endpoint consumer:consumer-endpoint vpce-" in v for v in dns["verified"])
    assert_deleted_what_it_created(calls)


def test_a_consumer_endpoint_pending_acceptance_fails_with_release_step_5(plan, aws, consumer):
    from tests.channelctl.accounts.verify_support import ec2_backend

    session, calls = aws
    _, con = consumer
    ec2_backend("333333333333").vpc_end_points[con.ids[con.named("consumer-endpoint").id]].state = "pendingAcceptance"
    report = verify(plan, "consumer", reachability=False, session=session)
    problems = "\n".join(next(c for c in report["checks"] if c["name"] == "resources")["problems"])
    assert "consumer:consumer-endpoint: vpce-" in problems and "is pendingAcceptance, not available" in problems
    assert "release step 5: `pulumi up` on stack iot" in problems


def test_an_unreachable_iot_account_fails_the_device_paths_and_creates_nothing(plan, aws, network):
    import copy
    import json

    session, calls = aws
    other = copy.deepcopy(plan)
    provider = next(r for r in other.stacks["iot"].rendered.resources if r.type == "pulumi:providers:aws")
    provider.inputs["allowedAccountIds"] = json.dumps(["999999999999"])
    result = check_reachability(open_target(other, "network", session))
    assert not result.passed
    assert result.problems == (
        "cannot find the path's ends: stack iot: the credentials reach account 222222222222, but the stack is pinned "
        "to 999999999999 (accountId) — use credentials of that account or set assumeRoleArn — pass "
        "--no-reachability to skip this check",)
    assert not {op for _, op in calls.operations} & ANALYSIS_CALLS
