"""`channelctl verify` on the iot stack: a moto account seeded from the plan's render passes; each way a
release can be left half-done or drifted fails naming the resource and the fix; the canary's password
never shows; verify sends no call that changes the account; bad input exits 2."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from channelctl.accounts import verify as verify_command
from channelctl.accounts.verify import verify
from channelctl.accounts.verify_aws import CallRefused, allowed_call, open_account
from channelctl.accounts.verify_probes import Canary
from channelctl.cli import main
from tests.channelctl.accounts.verify_support import (
    REGION,
    Calls,
    ec2_backend,
    fake_aws,
    new_session,
    pending_subscriptions,
    seed,
    stub_authorizer,
    stub_connections,
)
from tests.channelctl.plan.test_plan_support import example_plan

IOT_ACCOUNT, CONSUMER_ACCOUNT = "222222222222", "333333333333"
PASSWORD = "Canary-pass: 7f3!x"
CANARY = Canary(user="canary-01", client_id="canary-01", password_env="CHANNEL_CANARY_PASSWORD", password=PASSWORD)
CONNECT_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"arn:aws:iot:{REGION}:{IOT_ACCOUNT}:client/canary-01",
     "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f60718"]}}},
]})


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture
def aws(monkeypatch):
    with fake_aws(monkeypatch):
        session = new_session(region_name=REGION)
        yield session, Calls(session)


def seeded_iot(plan, aws, *, connection: str = "available", **kwargs):
    session, calls = aws
    s = seed(plan, "iot", **kwargs)
    stub_connections(calls, s.ids[s.named("gatekeeper-endpoint-service").id], {CONSUMER_ACCOUNT: connection})
    stub_authorizer(calls, plan)
    return s


def stub_canary(calls: Calls, *, right: bool = True, wrong: bool = False) -> None:
    iot = calls.stub("iot")
    for password, authenticated in ((PASSWORD, right), (PASSWORD + "-not-the-password", wrong)):
        iot.add_response("test_invoke_authorizer", {
            "isAuthenticated": authenticated, "principalId": "canary01",
            "policyDocuments": [CONNECT_POLICY] if authenticated else [],
            "refreshAfterInSeconds": 900, "disconnectAfterInSeconds": 86400,
        }, {"authorizerName": "mqtt-password-iot",
            "mqttContext": {"username": "canary-01", "password": password.encode(), "clientId": "canary-01"},
            "tlsContext": {"serverName": "iot.plant.example.com"}})


def checks_of(report) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def problems(report, check: str) -> str:
    return "\n".join(checks_of(report)[check]["problems"])


@pytest.fixture
def cli(plan, aws, monkeypatch, capsys):
    """`channelctl verify ...` on the example plan (built once per module) and the moto session."""
    monkeypatch.setattr("channelctl.plan.build.build_plan", lambda directory, stack_names=None: plan)
    monkeypatch.setattr(verify_command, "base_session", lambda: aws[0])
    monkeypatch.setenv("CHANNEL_CANARY_PASSWORD", PASSWORD)

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(["verify", *argv])
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_healthy_iot_account_passes(plan, aws, cli):
    seeded_iot(plan, aws)
    stub_canary(aws[1])
    code, out, err = cli("iot", "--canary-user", "canary-01")
    assert code == 0, out
    assert err == ""
    lines = out.splitlines()
    assert "  PASS resources: " in out and "  PASS dns: " in out and "  PASS authorizer: " in out
    assert "  NOT RUN reachability: " in out and "analysed from the network stack's account" in out
    assert lines[-1] == "PASS: 3 of 4 checks passed, 1 not run (reachability)"
    aws[1].assert_all_answered()


def test_the_json_report_has_the_plans_check_shape(plan, aws, cli):
    seeded_iot(plan, aws)
    code, out, _ = cli("iot", "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert report["verdict"] == "PASS: 2 of 4 checks passed, 2 not run (authorizer, reachability)"
    assert [c["name"] for c in report["checks"]] == ["resources", "dns", "authorizer", "reachability"]
    resources = checks_of(report)["resources"]
    assert set(resources) >= {"name", "passed", "status", "pending", "detail", "problems", "verified", "resources"}
    assert any("iot:gatekeeper-iot-data-0: vpce-" in v and "available at 10.20.0.10, 10.20.32.10" in v
               for v in resources["verified"])
    authorizer = checks_of(report)["authorizer"]
    assert authorizer["status"] == "NOT RUN" and authorizer["passed"]
    assert "pass --canary-user NAME" in authorizer["notRun"]
    assert report["session"]["roleArn"] == "arn:aws:iam::222222222222:role/mqtt-channel-deployer"


def test_an_endpoint_still_pending_fails_naming_it(plan, aws):
    s = seeded_iot(plan, aws)
    ec2_backend(IOT_ACCOUNT).vpc_end_points[s.ids[s.named("gatekeeper-iot-data-0", "aws:ec2/vpcEndpoint:VpcEndpoint").id]].state = "pending"
    report = verify(plan, "iot", session=aws[0])
    assert not report["passed"] and report["verdict"] == "FAIL: 1 of 4 checks failed (resources)"
    found = problems(report, "resources")
    assert "iot:gatekeeper-iot-data-0: vpce-" in found and "is pending, not available" in found
    assert "run verify again in a few minutes" in found


def test_an_endpoint_at_other_addresses_fails(plan, aws):
    from tests.channelctl.accounts.verify_support import set_eni_ip

    s = seeded_iot(plan, aws)
    eni = s.real[s.named("gatekeeper-iot-credentials", "aws:ec2/vpcEndpoint:VpcEndpoint").id]["NetworkInterfaceIds"][0]
    set_eni_ip(IOT_ACCOUNT, eni, "10.20.0.66")
    found = problems(verify(plan, "iot", session=aws[0]), "resources")
    assert "iot:gatekeeper-iot-credentials: vpce-" in found and "has addresses 10.20.0.66" in found
    assert "the plan fixes 10.20.0.6, 10.20.32.6" in found and "`pulumi up` on stack iot replaces the endpoint" in found


def test_an_attachment_pending_acceptance_fails_with_release_step_3(plan, aws):
    s = seeded_iot(plan, aws)
    ec2_backend(IOT_ACCOUNT).transit_gateway_attachments[s.ids[s.named("gatekeeper-tgw-attachment").id]].state = \
        "pendingAcceptance"
    found = problems(verify(plan, "iot", session=aws[0]), "resources")
    assert "iot:gatekeeper-tgw-attachment: tgw-attach-" in found and "is pendingAcceptance" in found
    assert "release step 3: `pulumi up` on stack network with iotStack set (VpcAttachmentAccepter)" in found


def test_a_consumer_connection_pending_acceptance_fails_with_release_step_5(plan, aws):
    seeded_iot(plan, aws, connection="pendingAcceptance")
    found = problems(verify(plan, "iot", session=aws[0]), "resources")
    assert "iot:gatekeeper-accept-analytics: endpoint vpce-" in found
    assert f"of account {CONSUMER_ACCOUNT} is pendingAcceptance" in found
    assert "release step 5: `pulumi up` on stack iot (VpcEndpointConnectionAccepter)" in found


def test_a_zone_not_associated_with_the_device_vpc_fails(plan, aws):
    seeded_iot(plan, aws, associate_foreign=False)
    report = verify(plan, "iot", session=aws[0])
    found = problems(report, "resources")
    assert "iot:gatekeeper-zone-data-zone: zone a1b2c3d4e5f6g7-ats.iot.us-west-2.amazonaws.com" in found
    assert "serves 0 VPC(s) of other accounts, the plan 1: network:channel-vpc (10.10.0.0/16)" in found
    assert "release step 3: `pulumi up` on stack network associates it (ZoneAssociation)" in found


def test_a_disabled_domain_configuration_fails(plan, aws):
    s = seeded_iot(plan, aws)
    s.c["iot"].update_domain_configuration(domainConfigurationName="mqtt-iot-plant-example-com",
                                           domainConfigurationStatus="DISABLED")
    found = problems(verify(plan, "iot", session=aws[0]), "resources")
    assert "iot:gatekeeper-authorizer-domain: domain configuration mqtt-iot-plant-example-com is DISABLED" in found
    assert "`pulumi up` on stack iot enables it again" in found


def test_an_inactive_authorizer_fails(plan, aws):
    session, calls = aws
    s = seed(plan, "iot")
    stub_connections(calls, s.ids[s.named("gatekeeper-endpoint-service").id], {CONSUMER_ACCOUNT: "available"})
    stub_authorizer(calls, plan, status="INACTIVE")
    found = problems(verify(plan, "iot", session=session), "resources")
    assert "iot:gatekeeper-authorizer-authorizer: authorizer mqtt-password-iot is INACTIVE" in found


def test_a_subscription_pending_confirmation_fails(plan, aws):
    seeded_iot(plan, aws)
    pending_subscriptions(IOT_ACCOUNT)
    found = problems(verify(plan, "iot", session=aws[0]), "resources")
    assert "iot:monitoring-alarms-sub-0: the email subscription of iot-ops@example.com" in found
    assert "is PendingConfirmation" in found and "confirm it from the message AWS sent to iot-ops@example.com" in found


def test_a_record_pointing_at_a_wrong_address_fails_the_dns_check(plan, aws):
    s = seeded_iot(plan, aws)
    s.c["route53"].change_resource_record_sets(HostedZoneId=s.ids[s.named("gatekeeper-zone-data-zone").id], ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": "a1b2c3d4e5f6g7-ats.iot.us-west-2.amazonaws.com", "Type": "A", "SetIdentifier": "endpoint-0",
            "Weight": 1, "TTL": 60, "ResourceRecords": [{"Value": "10.20.0.10"}, {"Value": "10.20.0.99"}]}}]})
    report = verify(plan, "iot", session=aws[0])
    assert report["verdict"] == "FAIL: 1 of 4 checks failed (dns)"
    found = problems(report, "dns")
    assert "iot:gatekeeper-zone-data-a-0: a1b2c3d4e5f6g7-ats.iot.us-west-2.amazonaws.com A (endpoint-0) answers " \
           "10.20.0.10, 10.20.0.99, but data endpoint iot:gatekeeper-iot-data-0 (vpce-" in found
    assert "has 10.20.0.10, 10.20.32.10 — `pulumi up` on stack iot restores the record" in found


def test_a_record_the_plan_does_not_declare_fails_the_dns_check(plan, aws):
    s = seeded_iot(plan, aws)
    s.c["route53"].change_resource_record_sets(HostedZoneId=s.ids[s.named("gatekeeper-zone-data-zone").id], ChangeBatch={
        "Changes": [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": "a1b2c3d4e5f6g7-ats.iot.us-west-2.amazonaws.com", "Type": "A", "SetIdentifier": "old-broker",
            "Weight": 1, "TTL": 60, "ResourceRecords": [{"Value": "10.20.5.5"}]}}]})
    found = problems(verify(plan, "iot", session=aws[0]), "dns")
    assert "also answers a1b2c3d4e5f6g7-ats.iot.us-west-2.amazonaws.com A (old-broker) with 10.20.5.5" in found
    assert "delete that record" in found


def test_the_authorizer_denying_the_canarys_right_password_fails(plan, aws):
    seeded_iot(plan, aws)
    stub_canary(aws[1], right=False)
    report = verify(plan, "iot", canary=CANARY, session=aws[0])
    assert report["verdict"] == "FAIL: 1 of 4 checks failed (authorizer)"
    found = problems(report, "authorizer")
    assert "iot:gatekeeper-authorizer-authorizer: authorizer mqtt-password-iot denies canary canary-01" in found
    assert "`channelctl devices`" in found and "$CHANNEL_CANARY_PASSWORD" in found


def test_the_authorizer_admitting_a_wrong_password_fails(plan, aws):
    seeded_iot(plan, aws)
    stub_canary(aws[1], wrong=True)
    found = problems(verify(plan, "iot", canary=CANARY, session=aws[0]), "authorizer")
    assert "admits canary canary-01 (client ID canary-01) with a WRONG password" in found


@pytest.mark.parametrize("deny", [False, True])
def test_the_canary_password_never_appears_in_any_output(plan, aws, cli, deny):
    s = seeded_iot(plan, aws)
    set_wrong = s.c["route53"].change_resource_record_sets  # a failing dns check: more text to look through
    set_wrong(HostedZoneId=s.ids[s.named("gatekeeper-zone-credentials-zone").id], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": "c1d2e3f4a5b6c7.credentials.iot.us-west-2.amazonaws.com", "Type": "A",
            "SetIdentifier": "endpoint-0", "Weight": 1, "TTL": 60, "ResourceRecords": [{"Value": "10.20.0.1"}]}}]})
    stub_canary(aws[1], right=not deny)
    outputs = []
    for form in ("text", "json"):
        if form == "json":  # a second run: the stubs again
            stub_connections(aws[1], s.ids[s.named("gatekeeper-endpoint-service").id], {CONSUMER_ACCOUNT: "available"})
            stub_authorizer(aws[1], plan)
            stub_canary(aws[1], right=not deny)
        code, out, err = cli("iot", "--canary-user", "canary-01", "--format", form)
        assert code == 1
        outputs.append(out + err)
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    for text in outputs:
        assert PASSWORD not in text and encoded not in text and "7f3!x" not in text
    assert PASSWORD not in repr(CANARY)


def test_verify_sends_no_call_that_changes_the_account(plan, aws):
    seeded_iot(plan, aws)
    stub_canary(aws[1])
    calls = aws[1]
    verify(plan, "iot", canary=CANARY, session=aws[0])
    sent = {op for _, op in calls.operations}
    assert {"DescribeVpcEndpoints", "ListResourceRecordSets", "TestInvokeAuthorizer"} <= sent
    assert all(op.startswith(("Describe", "Get", "List")) or op in ("AssumeRole", "TestInvokeAuthorizer")
               for op in sent), sorted(sent)


def test_every_client_refuses_a_write_before_it_is_sent(plan, aws):
    account = open_account(plan.stacks["iot"], aws[0])
    with pytest.raises(CallRefused, match="ec2:CreateVpc: it only reads"):
        account.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")
    assert ("ec2", "CreateVpc") not in aws[1].operations
    assert allowed_call("DescribeVpcs") and allowed_call("DeleteNetworkInsightsPath")
    assert not allowed_call("DeleteVpc") and not allowed_call("UpdateDomainConfiguration")


def test_help_says_what_verify_creates(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["verify", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    assert "Reachability Analyzer paths and analyses" in out and "analysis objects, not infrastructure" in out
    for option in ("--canary-user", "--canary-password-env", "--no-reachability", "--reachability-timeout"):
        assert option in out


@pytest.mark.parametrize("argv, message", [
    (["nosuch"], "no stack 'nosuch' in"),
    (["iot", "--canary-user", "canary-01", "--canary-password-env", "NO_SUCH_VARIABLE"],
     "the environment variable NO_SUCH_VARIABLE holds no password"),
    (["iot", "--reachability-timeout", "0"], "must be more than 0 seconds"),
    (["iot", "--format", "yaml"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(cli, argv, message):
    code, out, err = cli(*argv)
    assert code == 2
    assert message in err and "Traceback" not in err and out == ""


def test_credentials_of_another_account_exit_2(plan, aws, cli, monkeypatch):
    other = copy.deepcopy(plan)
    provider = next(r for r in other.stacks["iot"].rendered.resources if r.type == "pulumi:providers:aws")
    provider.inputs["assumeRoles"] = json.dumps([{"roleArn": "arn:aws:iam::444444444444:role/elsewhere"}])
    monkeypatch.setattr("channelctl.plan.build.build_plan", lambda directory, stack_names=None: other)
    code, out, err = cli("iot")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "the credentials reach account 444444444444, but the stack is pinned to 222222222222" in err


def test_the_check_lines_keep_the_plans_format(plan, aws):
    seeded_iot(plan, aws)
    pending_subscriptions(IOT_ACCOUNT)
    text = verify_command.to_text(verify(plan, "iot", session=aws[0]), width=100)
    lines = text.splitlines()
    assert "Checks: 1 passed, 2 not run, 1 failed" in lines
    assert any(line.startswith("  FAIL resources: iot:monitoring-alarms-sub-0: ") for line in lines)
    assert any(line.startswith("       - iot:monitoring-alarms-sub-0: ") for line in lines)
    assert all(len(line) <= 100 for line in lines)
    assert lines[-1] == "FAIL: 1 of 4 checks failed (resources)" and lines[-2] == ""
