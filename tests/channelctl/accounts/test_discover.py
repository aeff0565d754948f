"""`channelctl discover` against moto's server on 127.0.0.1 (one server for the module), through real
boto3 sessions: STS (AssumeRole into each stack's account), EC2 zones and endpoint services, IAM roles,
CloudWatch Logs, ACM, Organizations and CloudTrail come from moto; Service Quotas (moto has only the VPC
quotas and no GetAWSDefaultServiceQuota), Direct Connect gateways, RAM invitations and IoT's V2 logging
options (all missing from moto) come from botocore's Stubber, with responses shaped as botocore's output shapes."""

from __future__ import annotations

import argparse
import json
import logging

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from benchmarks.plan_bench import copy_project
from channelctl.accounts import discover as dc
from channelctl.accounts.discover_policy import actions_of, policy_document
from channelctl.accounts.facts import load_facts
from channelctl.accounts import reads
from channelctl.accounts import trails as reads_trails
from channelctl.accounts.reads import QuotaRead
from channelctl.cli import build_parser, main
from components import aws_limits
from tests.channelctl.accounts.support import (
    REGION,
    Aws,
    stub_direct_connect,
    stub_error,
    stub_invitations,
    stub_iot_logging,
    stub_quotas,
)

NETWORK, IOT, CONSUMER = "111111111111", "222222222222", "333333333333"
DEPLOYER = "arn:aws:iam::{}:role/mqtt-channel-deployer"
OPERATORS = "arn:aws:iam::222222222222:role/mqtt-channel-operators"
ENDPOINT_SERVICE = "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0"
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})

SG, ENDPOINTS, LAMBDA = aws_limits.SG_RULES_QUOTA_CODE, aws_limits.INTERFACE_ENDPOINTS_QUOTA_CODE, \
    aws_limits.LAMBDA_CONCURRENCY_QUOTA_CODE
COMMON_QUOTA_ANSWERS = [
    ("vpc", SG, "Inbound or outbound rules per security group", 60.0, 60.0),
    ("vpc", ENDPOINTS, "Interface VPC endpoints per VPC", 100.0, 50.0),  # raised for this account
    ("lambda", LAMBDA, "Concurrent executions", None, 1000.0),  # no value of its own: the default applies
]
COMMON_QUOTA_FACTS = {
    f"vpc/{SG}": {"value": 60, "default": 60, "applied": True},
    f"vpc/{ENDPOINTS}": {"value": 100, "default": 50, "applied": True},
    f"lambda/{LAMBDA}": {"value": 1000, "default": 1000, "applied": False},
}
IOT_CONNECT = ("iotcore", aws_limits.IOT_CONNECT_QUOTA_CODE, aws_limits.IOT_CONNECT_QUOTA_NAME, None, 3000.0)


@pytest.fixture(scope="module")
def moto_url():
    # The server's request log is of no interest when a test fails.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with pytest.MonkeyPatch.context() as env:
        for key, value in FAKE_ENV.items():
            env.setenv(key, value)
        env.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        # A client that is not given the URL (the default session factory) reaches moto too, never AWS.
        env.setenv("AWS_ENDPOINT_URL", url)
        try:
            yield url
        finally:
            server.stop()


def in_account(url: str, account: str) -> boto3.Session:
    """A session of the test's own in ``account`` (moto's STS maps assumed-role keys to the account)."""
    sts = boto3.client("sts", region_name=REGION, endpoint_url=url)
    keys = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return boto3.Session(aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                         aws_session_token=keys["SessionToken"], region_name=REGION)


@pytest.fixture(scope="module")
def seeded(moto_url):
    """What the accounts already hold: the deployer roles of network and iot (not consumer), the IoT
    log group, the custom domain's certificate, an organization with RAM's trusted access."""
    iot = in_account(moto_url, IOT)
    iot.client("iam", endpoint_url=moto_url).create_role(RoleName="mqtt-channel-deployer",
                                                         AssumeRolePolicyDocument=TRUST)
    iot.client("logs", endpoint_url=moto_url).create_log_group(logGroupName="AWSIotLogsV2")
    acm = iot.client("acm", endpoint_url=moto_url)
    certificate = acm.request_certificate(DomainName="iot.plant.example.com")["CertificateArn"]
    network = in_account(moto_url, NETWORK)
    network.client("iam", endpoint_url=moto_url).create_role(RoleName="mqtt-channel-deployer",
                                                             AssumeRolePolicyDocument=TRUST)
    organizations = network.client("organizations", endpoint_url=moto_url)
    organizations.create_organization(FeatureSet="ALL")
    organizations.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    return {
        "certificate": certificate,
        "certificate_status": acm.describe_certificate(CertificateArn=certificate)["Certificate"]["Status"],
        "zones": iot.client("ec2", endpoint_url=moto_url).describe_availability_zones()["AvailabilityZones"],
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory, seeded):
    """The example project, its iot stack naming the certificate moto holds."""
    target = copy_project(tmp_path_factory.mktemp("project"))
    path = target / "Pulumi.iot.yaml"
    example = yaml.safe_load(path.read_text())["config"]["private-mqtt-channel:customDomainCertificateArn"]
    path.write_text(path.read_text().replace(example, seeded["certificate"]))
    return target


def run(aws: Aws, *argv: str) -> int:
    return dc.run(build_parser().parse_args(["discover", *argv]), session_factory=aws)


def assert_reads_only_what_the_policy_grants(aws: Aws, role: str, account: str) -> None:
    aws.assert_read_only()
    aws.assert_stubs_used()
    granted = actions_of(policy_document(role, account, REGION))
    assert set(aws.actions) - {"sts:AssumeRole"} <= granted, set(aws.actions) - granted
    assert "sts:AssumeRole" in aws.actions  # through the stack's assumeRoleArn


def zone_names(seeded) -> list[str]:
    return sorted(z["ZoneName"] for z in seeded["zones"])


# --------------------------------------------------------------------------- #
# The three example stacks
# --------------------------------------------------------------------------- #


def test_iot_stack_facts_come_from_its_account(project, seeded, moto_url, capsys):
    aws = Aws(moto_url, stubs={
        "service-quotas": stub_quotas([*COMMON_QUOTA_ANSWERS, IOT_CONNECT]),
        "ram": stub_invitations([("pending-1", "PENDING"), ("old-1", "ACCEPTED")]),
        "iot": stub_iot_logging(None),
    })
    assert run(aws, "iot", "--cwd", str(project), "--format", "json") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["unknown"] == [] and printed["path"] == str(project / "facts" / "iot.json")

    facts = load_facts(project / "facts" / "iot.json")
    assert (facts.stack, facts.account, facts.region) == ("iot", IOT, REGION)
    assert facts.value("availabilityZones") == sorted(
        ({"name": z["ZoneName"], "id": z["ZoneId"]} for z in seeded["zones"]), key=lambda z: z["name"])
    services = facts.value("serviceZones")
    prefix = f"com.amazonaws.{REGION}."
    assert list(services) == [prefix + s for s in ("iot.data", "iot.credentials", "greengrass", "s3", "ssm",
                                                   "ssmmessages", "ec2messages")]
    # moto offers each in every zone (S3 as a gateway too: the interface's zones count).
    assert all(zones == zone_names(seeded) for zones in services.values()), services
    assert facts.value("quotas") == COMMON_QUOTA_FACTS | {
        f"iotcore/{aws_limits.IOT_CONNECT_QUOTA_CODE}": {"value": 3000, "default": 3000, "applied": False}}
    assert facts.value("roles") == {DEPLOYER.format(IOT): True, OPERATORS: False}
    assert facts.value("certificates") == {seeded["certificate"]: {
        "status": seeded["certificate_status"], "names": ["iot.plant.example.com"], "region": REGION}}
    assert facts.value("ramInvitations") == [{
        "arn": f"arn:aws:ram:{REGION}:111111111111:resource-share-invitation/pending-1",
        "shareArn": f"arn:aws:ram:{REGION}:111111111111:resource-share/s-pending-1",
        "status": "PENDING", "sender": NETWORK}]
    assert facts.value("logGroups") == {"AWSIotLogsV2": True, "/aws/lambda/mqtt-authorizer-iot": False}
    assert facts.get("iotLogging").known and facts.value("iotLogging") is None
    assert facts.value("managementTrails") == {"trails": [], "others": {}}  # the account has no trail
    assert facts.get("availabilityZones").source == "ec2:DescribeAvailabilityZones"
    assert_reads_only_what_the_policy_grants(aws, "iot", IOT)


def test_network_stack_facts_come_from_its_account(project, seeded, moto_url, capsys):
    aws = Aws(moto_url, stubs={
        "service-quotas": stub_quotas(COMMON_QUOTA_ANSWERS),
        "directconnect": stub_direct_connect("dxcon-ffabc123", "available"),
    })
    assert run(aws, "network", "--cwd", str(project)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"channelctl discover: network (account {NETWORK}, {REGION}) -> " \
                                  f"{project / 'facts' / 'network.json'}"
    assert out.splitlines()[-1] == "5 facts read, 0 unknown"

    facts = load_facts(project / "facts" / "network.json")
    assert (facts.stack, facts.account) == ("network", NETWORK)
    assert [z["name"] for z in facts.value("availabilityZones")] == zone_names(seeded)
    assert facts.value("ramSharingWithOrganization") is True
    assert facts.value("directConnect") == {"connections": {"dxcon-ffabc123": "available"},
                                            "gateways": {"5f294f92-bafb-4011-916d-9b0bEXAMPLE": "available"}}
    assert facts.value("roles") == {DEPLOYER.format(NETWORK): True}
    assert facts.value("quotas") == COMMON_QUOTA_FACTS
    # No interface endpoint and no log group with a name of its own in the network stack.
    assert facts.get("serviceZones") is None and facts.get("logGroups") is None
    assert_reads_only_what_the_policy_grants(aws, "network", NETWORK)


def test_consumer_stack_reads_the_endpoint_service_only_when_named(project, moto_url, tmp_path):
    without = Aws(moto_url, stubs={"service-quotas": stub_quotas(COMMON_QUOTA_ANSWERS)})
    assert run(without, "consumer", "--cwd", str(project), "--output", str(tmp_path / "a.json")) == 0
    fact = load_facts(tmp_path / "a.json").get("serviceZones")
    assert not fact.known and "--endpoint-service" in fact.unknown
    assert load_facts(tmp_path / "a.json").value("roles") == {DEPLOYER.format(CONSUMER): False}

    named = Aws(moto_url, stubs={"service-quotas": stub_quotas(COMMON_QUOTA_ANSWERS)})
    assert run(named, "consumer", "--cwd", str(project), "--output", str(tmp_path / "b.json"),
               "--endpoint-service", ENDPOINT_SERVICE) == 0
    # Not offered to this account (moto knows no such service): offered in no zone it could use.
    assert load_facts(tmp_path / "b.json").value("serviceZones") == {ENDPOINT_SERVICE: []}
    for aws in (without, named):
        assert_reads_only_what_the_policy_grants(aws, "consumer", CONSUMER)


# --------------------------------------------------------------------------- #
# Reads that fail
# --------------------------------------------------------------------------- #


def test_a_denied_read_is_an_unknown_fact_and_the_rest_is_written(project, moto_url, tmp_path, capsys):
    aws = Aws(moto_url, stubs={
        "ec2": stub_error("describe_availability_zones", "UnauthorizedOperation",
                          "You are not authorized to perform this operation."),
        "organizations": stub_error("list_aws_service_access_for_organization", "AccessDeniedException",
                                    "You don't have permissions to access this resource."),
        "service-quotas": stub_quotas(COMMON_QUOTA_ANSWERS),
        "directconnect": stub_direct_connect("dxcon-ffabc123", "down"),
    })
    output = tmp_path / "network.json"
    assert run(aws, "network", "--cwd", str(project), "--output", str(output)) == 0
    facts = load_facts(output)
    zones, ram = facts.get("availabilityZones"), facts.get("ramSharingWithOrganization")
    assert zones.unknown == "UnauthorizedOperation: You are not authorized to perform this operation."
    assert ram.unknown == "AccessDeniedException: You don't have permissions to access this resource."
    assert ram.source == "organizations:ListAWSServiceAccessForOrganization"
    assert facts.value("directConnect")["connections"] == {"dxcon-ffabc123": "down"}
    assert facts.value("quotas") == COMMON_QUOTA_FACTS and facts.value("roles")
    out = capsys.readouterr().out
    assert "  unknown  ramSharingWithOrganization  AccessDeniedException: You don't have" in out
    assert out.splitlines()[-1].startswith("3 facts read, 2 unknown")
    assert_reads_only_what_the_policy_grants(aws, "network", NETWORK)


def test_a_throttled_read_is_an_unknown_fact(moto_url, tmp_path):
    # The example project as committed: its certificate does not exist in moto.
    project = copy_project(tmp_path)
    aws = Aws(moto_url, stubs={
        "service-quotas": stub_quotas([*COMMON_QUOTA_ANSWERS, IOT_CONNECT]),
        "ram": stub_error("get_resource_share_invitations", "ThrottlingException", "Rate exceeded"),
        "iot": stub_iot_logging({"roleArn": "arn:aws:iam::222222222222:role/iot-logging", "defaultLogLevel": "ERROR",
                                 "disableAllLogs": False}),
        "cloudtrail": stub_error("describe_trails", "AccessDeniedException", "User: arn:aws:sts::222222222222:"
                                 "assumed-role/mqtt-channel-deployer/channelctl-discover is not authorized to perform: "
                                 "cloudtrail:DescribeTrails"),
    })
    assert run(aws, "iot", "--cwd", str(project)) == 0
    facts = load_facts(project / "facts" / "iot.json")
    assert facts.get("ramInvitations").unknown == "ThrottlingException: Rate exceeded (throttled)"
    # Trails that cannot be listed: whether the key change alarm can fire is not known, and says why.
    trails = facts.get("managementTrails")
    assert not trails.known and trails.unknown.startswith("AccessDeniedException: User: ") \
        and trails.unknown.endswith("is not authorized to perform: cloudtrail:DescribeTrails")
    certificate = yaml.safe_load((project / "Pulumi.iot.yaml").read_text())["config"][
        "private-mqtt-channel:customDomainCertificateArn"]
    assert facts.value("certificates") == {certificate: {"status": None, "names": [], "region": REGION}}
    assert facts.value("iotLogging") == {"enabled": True, "defaultLogLevel": "ERROR",
                                         "roleArn": "arn:aws:iam::222222222222:role/iot-logging"}
    assert_reads_only_what_the_policy_grants(aws, "iot", IOT)


def test_a_quota_the_account_does_not_have_or_names_otherwise_is_unknown_alone(moto_url):
    stubbed = Aws(moto_url, stubs={"service-quotas": stub_quotas([
        ("iotcore", "L-AEA1E176", "Maximum concurrent client connections per account", None, 500000.0),
        ("nosuch", "L-00000000", "", None, None),
    ])})
    client = stubbed(None).client("service-quotas", region_name=REGION)
    named = QuotaRead("iotcore", "L-AEA1E176", aws_limits.IOT_CONNECT_QUOTA_NAME)
    assert reads.quotas(client, (named, QuotaRead("nosuch", "L-00000000"))) == {
        "iotcore/L-AEA1E176": {"unknown": "quota iotcore/L-AEA1E176 is named 'Maximum concurrent client connections "
                                          "per account', not 'Connect requests per second per account': not the "
                                          "quota the checks need"},
        "nosuch/L-00000000": {"unknown": "NoSuchResourceException: Service Quotas has no quota nosuch/L-00000000 "
                                         "in this Region"},
    }


def test_failure_reasons_are_one_line():
    from botocore.exceptions import ClientError, EndpointConnectionError

    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate\nexceeded"},
                             "ResponseMetadata": {"RetryAttempts": 2}}, "DescribeAvailabilityZones")
    assert dc.failure_reason(throttled) == "Throttling: Rate exceeded (throttled on all 3 attempts)"
    offline = EndpointConnectionError(endpoint_url="https://iot.xx-nowhere-1.amazonaws.com/")
    assert dc.failure_reason(offline) == ('EndpointConnectionError: Could not connect to the endpoint URL: '
                                          '"https://iot.xx-nowhere-1.amazonaws.com/"')
    long = ClientError({"Error": {"Code": "AccessDenied", "Message": "x" * 1000}}, "GetRole")
    assert len(dc.failure_reason(long)) == dc.REASON_MAX_CHARS


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #


def test_help_works(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["discover", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("STACK", "--cwd", "--output", "--endpoint-service", "--format", "--policy"):
        assert option in out


def test_policy_is_printed_without_reading_the_account(project, capsys):
    assert main(["discover", "network", "--cwd", str(project), "--policy"]) == 0
    assert json.loads(capsys.readouterr().out) == policy_document("network", NETWORK, REGION)


@pytest.mark.parametrize("argv, says", [
    (["nosuch"], "Pulumi.nosuch.yaml: no such file for stack 'nosuch'"),
    (["iot", "--cwd", "{missing}"], "no such directory"),
    (["iot", "--endpoint-service", ENDPOINT_SERVICE], "--endpoint-service is for consumer stacks"),
    (["consumer", "--endpoint-service", "vpce-svc-0123"], "is not an endpoint service name"),
])
def test_bad_input_exits_2_with_one_line(project, moto_url, tmp_path, capsys, argv, says):
    argv = [a.replace("{missing}", str(tmp_path / "missing")) for a in argv]
    cwd = [] if "--cwd" in argv else ["--cwd", str(project)]
    assert main(["discover", *argv, *cwd]) == 2
    err = capsys.readouterr().err
    assert err.startswith("channelctl discover: ") and says in err and err.count("\n") == 1, err


def test_missing_credentials_exit_2_naming_what_to_set(project, moto_url, tmp_path, monkeypatch, capsys):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert main(["discover", "iot", "--cwd", str(project)]) == 2  # the default session factory
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AWS_PROFILE" in err and "AWS_ACCESS_KEY_ID" in err, err


def test_credentials_of_another_account_exit_2(moto_url, tmp_path, capsys):
    project = copy_project(tmp_path)
    path = project / "Pulumi.consumer.yaml"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if "assumeRoleArn" not in line))
    aws = Aws(moto_url)
    assert run(aws, "consumer", "--cwd", str(project)) == 2
    err = capsys.readouterr().err
    assert "the credentials are for account 123456789012, the stack's accountId is 333333333333" in err
    assert aws.actions == ["sts:GetCallerIdentity"] and not (project / "facts").exists()


def test_the_command_is_registered_before_plan():
    from channelctl.cli import COMMANDS

    assert COMMANDS.index("channelctl.accounts.discover") < COMMANDS.index("channelctl.plan.command")
    assert isinstance(build_parser(), argparse.ArgumentParser)


def test_no_assume_role_reads_with_the_callers_own_credentials(project, moto_url, capsys):
    # The iot stack names an assumeRoleArn; with --no-assume-role it is not assumed, and the caller's
    # own account (moto's default, not the stack's) is refused as any other account would be.
    aws = Aws(moto_url)
    assert run(aws, "iot", "--cwd", str(project), "--no-assume-role", "--output", "unused.json") == 2
    assert "the credentials are for account 123456789012, the stack's accountId is 222222222222" in \
        capsys.readouterr().err
    assert aws.actions == ["sts:GetCallerIdentity"]
    assumed = Aws(moto_url)
    run(assumed, "iot", "--cwd", str(project), "--output", str(project / "assumed.json"))
    assert assumed.actions[0] == "sts:AssumeRole"


# --------------------------------------------------------------------------- #
# The iot account's CloudTrail trails (the credentials key's change alarm needs one)
# --------------------------------------------------------------------------- #


@pytest.fixture
def trails(moto_url):
    """Three trails in the iot account: one that counts, one not logging, one leaving KMS out; removed after."""
    session = in_account(moto_url, IOT)
    s3 = session.client("s3", endpoint_url=moto_url)
    s3.create_bucket(Bucket="iot-trail-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    cloudtrail = session.client("cloudtrail", endpoint_url=moto_url)
    for name in ("channel-audit", "stopped", "no-kms"):
        cloudtrail.create_trail(Name=name, S3BucketName="iot-trail-logs", IsMultiRegionTrail=name == "channel-audit")
    for name in ("channel-audit", "no-kms"):
        cloudtrail.start_logging(Name=name)
    cloudtrail.put_event_selectors(TrailName="channel-audit", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "ExcludeManagementEventSources": []}])
    cloudtrail.put_event_selectors(TrailName="no-kms", AdvancedEventSelectors=[{"Name": "no KMS", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}])
    try:
        yield cloudtrail, lambda service, region=REGION: session.client(service, region_name=region,
                                                                         endpoint_url=moto_url)
    finally:
        for name in ("channel-audit", "stopped", "no-kms"):
            cloudtrail.delete_trail(Name=name)


def test_the_trail_that_logs_the_keys_changes_is_read_and_the_others_say_why_not(project, moto_url, trails, tmp_path):
    aws = Aws(moto_url, stubs={"service-quotas": stub_quotas([*COMMON_QUOTA_ANSWERS, IOT_CONNECT]),
                               "ram": stub_invitations([]), "iot": stub_iot_logging(None)})
    assert run(aws, "iot", "--cwd", str(project), "--output", str(tmp_path / "iot.json")) == 0
    fact = load_facts(tmp_path / "iot.json").get("managementTrails")
    assert fact.source == "cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus, cloudtrail:GetEventSelectors"
    assert fact.value == {"trails": ["channel-audit"], "others": {
        "no-kms": "advanced event selector 'no KMS' leaves out eventSource kms.amazonaws.com",
        "stopped": "it is not logging (StartLogging was never called or StopLogging was)"}}
    assert_reads_only_what_the_policy_grants(aws, "iot", IOT)
    # The counterpart: with the one that counted stopped, no trail counts, and the fact says so (known, empty).
    cloudtrail, clients = trails
    cloudtrail.stop_logging(Name="channel-audit")
    found = reads_trails.management_trails(clients, REGION)
    assert found["trails"] == [] and found["others"]["channel-audit"].startswith("it is not logging")
