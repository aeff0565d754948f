"""iot stack, custom authorizer: table, Lambda, authorizer, permission, domain."""

import json
import subprocess
import sys
import zipfile

import pytest

from channelctl.plan.render import render_stack
from components.config import ConfigError, load_config
from tests.support import FQ, PROJECT_DIR, broken, example_config, render

T_TABLE = "aws:dynamodb/table:Table"
T_FUNCTION = "aws:lambda/function:Function"


def one(rendered, type_):
    (resource,) = rendered.of_type(type_)
    return resource


def table_problems(rendered):
    problems = []
    for t in rendered.of_type(T_TABLE):
        if t.inputs.get("hashKey") != "username" or t.inputs.get("attributes") != [{"name": "username", "type": "S"}]:
            problems.append("partition key")
        sse = t.inputs.get("serverSideEncryption") or {}
        if not (sse.get("enabled") and sse.get("kmsKeyArn")):
            problems.append("not encrypted with a KMS key")
        if not (t.inputs.get("pointInTimeRecovery") or {}).get("enabled"):
            problems.append("no point-in-time recovery")
        if not t.inputs.get("deletionProtectionEnabled"):
            problems.append("no deletion protection")
    return problems


def test_credentials_table_is_encrypted_recoverable_and_protected(chain):
    iot = chain["iot-1"]
    assert table_problems(iot) == []
    (key,) = [k for k in iot.of_type("aws:kms/key:Key") if k.name.startswith("gatekeeper-authorizer")]
    assert one(iot, T_TABLE).inputs["serverSideEncryption"]["kmsKeyArn"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True


@pytest.mark.parametrize("change,problem", [
    ({"pointInTimeRecovery": {"enabled": False}}, "no point-in-time recovery"),
    ({"serverSideEncryption": {"enabled": False}}, "not encrypted with a KMS key"),
    ({"deletionProtectionEnabled": False}, "no deletion protection"),
])
def test_a_weakened_table_is_caught(chain, change, problem):
    assert table_problems(broken(chain["iot-1"], "gatekeeper-authorizer-credentials", **change)) == [problem]


def test_function_runs_in_the_gatekeeper_vpc_with_the_endpoint_ids(chain):
    iot = chain["iot-1"]
    fn = one(iot, T_FUNCTION)
    assert fn.inputs["runtime"] == "python3.13" and fn.inputs["architectures"] == ["arm64"]
    assert fn.inputs["handler"] == "authorizer.handler.handler"
    assert fn.inputs["timeout"] == 5
    assert fn.inputs["reservedConcurrentExecutions"] == example_config("iot")["authorizer"]["reservedConcurrency"]
    assert fn.inputs["loggingConfig"]["logFormat"] == "JSON"
    gatekeeper_subnets = {s.id for s in iot.of_type("aws:ec2/subnet:Subnet")}
    assert set(fn.inputs["vpcConfig"]["subnetIds"]) == gatekeeper_subnets
    env = fn.inputs["environment"]["variables"]
    assert env["CREDENTIALS_TABLE"] == one(iot, T_TABLE).state["name"]
    assert sorted(env["DATA_ENDPOINT_IDS"].split(",")) == sorted(iot.exports["dataEndpointIds"])
    assert json.loads(env["FAMILY_TOPIC_PREFIXES"]) == {"family1": "plant/family1", "family2": "plant/family2"}
    assert env["THING_TOPIC_PREFIX"] == "things"  # thingTopicPrefix of Pulumi.iot.yaml


def test_function_reaches_dynamodb_through_a_gateway_endpoint_only(chain):
    iot = chain["iot-1"]
    (gateway,) = [e for e in iot.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["serviceName"].endswith(".dynamodb")]
    assert gateway.inputs["vpcEndpointType"] == "Gateway"
    assert gateway.inputs["routeTableIds"] == [one(iot, "aws:ec2/routeTable:RouteTable").id]
    sg = next(r for r in iot.resources if r.name == "gatekeeper-authorizer-sg")
    assert not sg.inputs.get("ingress")
    assert [(r["fromPort"], r["prefixListIds"]) for r in sg.inputs["egress"]] == [(443, ["pl-68a54001"])]


def role_problems(rendered):
    problems = []
    table_arn = one(rendered, T_TABLE).state["arn"]
    for policy in rendered.of_type("aws:iam/rolePolicy:RolePolicy"):
        if not policy.name.startswith("gatekeeper-authorizer"):
            continue
        for st in json.loads(policy.inputs["policy"])["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            for action in actions:
                if action == "dynamodb:UpdateItem" and st["Resource"] == table_arn:
                    condition = st.get("Condition", {})
                    attributes = condition.get("ForAllValues:StringEquals", {}).get("dynamodb:Attributes")
                    if sorted(attributes or ["*"]) != sorted(
                        ["username", "password_hash", "updated_at", "failed_attempts", "failed_since", "locked_until",
                         "password_login_at"]
                    ):
                        problems.append(f"UpdateItem of {attributes}")
                elif action.startswith("dynamodb:") and (action != "dynamodb:GetItem" or st["Resource"] != table_arn):
                    problems.append(f"{action} on {st['Resource']}")
                if action.startswith("kms:") and "kms:ViaService" not in json.dumps(st.get("Condition", {})):
                    problems.append(f"{action} outside DynamoDB")
                if "*" in action:
                    problems.append(action)
    return problems


def test_role_may_only_get_items_from_the_table(chain):
    iot = chain["iot-1"]
    assert role_problems(iot) == []
    policy = next(r for r in iot.resources if r.name == "gatekeeper-authorizer-read-credentials")
    doc = json.loads(policy.inputs["policy"])
    doc["Statement"][0]["Action"] = ["dynamodb:GetItem", "dynamodb:Scan"]
    bad = broken(iot, policy.name, policy=json.dumps(doc))
    assert role_problems(bad) == [f"dynamodb:Scan on {one(iot, T_TABLE).state['arn']}"]
    # The upgrade's UpdateItem may name the password hash, never the flags that refuse a device.
    doc = json.loads(policy.inputs["policy"])
    (update,) = [st for st in doc["Statement"] if st["Action"] == "dynamodb:UpdateItem"]
    update["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"].append("enabled")
    assert role_problems(broken(iot, policy.name, policy=json.dumps(doc))) == [
        "UpdateItem of ['username', 'password_hash', 'updated_at', 'failed_attempts', 'failed_since', "
        "'locked_until', 'password_login_at', 'enabled']"]
    update.pop("Condition")
    assert role_problems(broken(iot, policy.name, policy=json.dumps(doc))) == ["UpdateItem of None"]


def test_authorizer_permission_and_domain_configuration(chain):
    iot = chain["iot-1"]
    authorizer = one(iot, "aws:iot/authorizer:Authorizer")
    fn = one(iot, T_FUNCTION)
    assert authorizer.inputs["signingDisabled"] is True and authorizer.inputs["status"] == "ACTIVE"
    assert authorizer.inputs["authorizerFunctionArn"] == fn.state["arn"]
    permission = one(iot, "aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "iot.amazonaws.com"
    assert permission.inputs["sourceArn"] == authorizer.state["arn"]
    domain = one(iot, "aws:iot/domainConfiguration:DomainConfiguration")
    assert domain.inputs["domainName"] == "iot.plant.example.com"
    assert domain.inputs["serverCertificateArns"] == [example_config("iot")["customDomainCertificateArn"]]
    assert domain.inputs["authenticationType"] == "CUSTOM_AUTH"
    assert domain.inputs["tlsConfig"]["securityPolicy"] == "IoTSecurityPolicy_TLS13_1_2_2022_10"
    assert domain.inputs["authorizerConfig"] == {
        "defaultAuthorizerName": authorizer.inputs["name"], "allowAuthorizerOverride": False}
    assert iot.exports["authorizerName"] == authorizer.inputs["name"]
    assert iot.exports["customDomain"] == "iot.plant.example.com"
    # Its name, domain and certificate force a replacement, and the domain belongs to one
    # configuration at a time: the old one goes first.
    assert domain.options == {"deleteBeforeReplace": True}


def test_custom_domain_zone_is_associated_like_the_endpoint_zones(chain):
    iot, net = chain["iot-1"], chain["network-2"]
    zone_id = iot.exports["privateZoneIds"]["iot.plant.example.com"]
    auths = [a for a in iot.of_type("aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization")
             if a.inputs["zoneId"] == zone_id]
    assert [a.inputs["vpcId"] for a in auths] == [chain["network-1"].exports["deviceVpcId"]]
    assert zone_id in {z.inputs["zoneId"] for z in net.of_type("aws:route53/zoneAssociation:ZoneAssociation")}


def test_lambda_package_imports_as_the_handler_string_says(chain, tmp_path):
    """Build the zip Pulumi would upload and call its handler in a clean interpreter."""
    archive = one(chain["iot-1"], T_FUNCTION).inputs["code"]
    bundle = tmp_path / "authorizer.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for name, asset in archive.assets.items():
            zf.write(asset.path, name)
    assert "authorizer/handler.py" in zipfile.ZipFile(bundle).namelist()
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "import importlib; h = importlib.import_module('authorizer.handler');"
        "print(json.dumps(h.handler({'protocols': ['mqtt']}, None)))"
    )
    out = subprocess.run([sys.executable, "-I", "-c", script, str(bundle)], capture_output=True, text=True,
                         env={"CREDENTIALS_TABLE": "t", "DATA_ENDPOINT_IDS": "vpce-0123456789abcdef0",
                              "AWS_REGION": "us-west-2", "IOT_ACCOUNT_ID": "222222222222",
                              "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["isAuthenticated"] is False


def test_disabled_authorizer_declares_none_of_it(chain):
    cfg = example_config("iot") | {"authorizer": {"enabled": False}}
    iot = render("iot", cfg, {FQ("network"): chain["network-1"].exports})
    for type_ in (T_TABLE, T_FUNCTION, "aws:iot/authorizer:Authorizer", "aws:iot/domainConfiguration:DomainConfiguration"):
        assert iot.of_type(type_) == []
    assert iot.exports["authorizerName"] is None


@pytest.mark.parametrize("changes,message", [
    ({"customDomain": None}, r"authorizer.enabled true needs customDomain"),
    ({"customDomainCertificateArn": None}, r"authorizer.enabled true needs customDomainCertificateArn"),
    ({"customDomainCertificateArn": "arn:aws:acm:eu-west-1:222222222222:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
     r"not in this stack's region us-west-2"),
    ({"authorizer": {"enabled": True, "refreshAfterSeconds": 60}}, r"authorizer.refreshAfterSeconds 60 is out of range"),
    ({"authorizer": {"enabled": True, "familyTopicPrefixes": {"family1": "plant/#"}}}, r"is not a topic prefix"),
    ({"authorizer": {"enabeld": True}}, r"authorizer has unknown key\(s\) enabeld"),
    ({"authorizer": {"enabled": True}}, r"authorizer.operatorRoleArns is empty"),
    ({"authorizer": {"enabled": True, "operatorRoleArns": ["arn:aws:iam::999999999999:role/ops"]}},
     r"authorizer.operatorRoleArns\[0\] .* is not in accountId 222222222222"),
    ({"authorizer": {"enabled": True, "operatorRoleArns": ["arn:aws:iam::222222222222:role/ops\n"]}},
     r"authorizer.operatorRoleArns\[0\] .* is not an IAM role ARN"),
    ({"authorizer": {"enabled": True, "operatorRoleArns": ["arn:aws:iam::222222222222:role/ops"],
                     "keyAdminArns": ["arn:aws:iam::222222222222:role/security"]}},
     r"authorizer.keyAdminArns .* leaves out assumeRoleArn .*mqtt-channel-deployer"),
])
def test_authorizer_config_errors(changes, message):
    cfg = example_config("iot")
    cfg.pop("deviceAccess")
    for key, value in changes.items():
        if value is None:
            cfg.pop(key)
        else:
            cfg[key] = value
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, stack="iot")


QUOTA = ("lambda", "L-B99A9384")
QUOTA_TOKEN = "aws:servicequotas/getServiceQuota:getServiceQuota"


def _render_iot(chain, authorizer_changes, quota):
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], **authorizer_changes}
    if authorizer_changes.get("reservedConcurrency") is None:
        cfg["authorizer"].pop("reservedConcurrency", None)
    return render_stack(PROJECT_DIR, "iot", cfg, peers={FQ("network"): chain["network-1"].exports},
                        service_quotas={QUOTA: quota})


def test_reserved_concurrency_is_checked_against_the_account_quota_read_through_the_provider(chain):
    iot = _render_iot(chain, {"reservedConcurrency": 100}, 1_000)
    (lookup,) = [args for token, args in iot.invokes if token == QUOTA_TOKEN]
    assert (lookup["serviceCode"], lookup["quotaCode"]) == QUOTA
    assert iot.quotas == {"lambda/L-B99A9384": 1_000.0}
    assert one(iot, T_FUNCTION).inputs["reservedConcurrentExecutions"] == 100


def test_a_reservation_the_account_quota_cannot_hold_is_refused_before_any_resource(chain):
    # A new account's quota can be 10: 100 reserved would leave nothing, Lambda needs 100 unreserved.
    with pytest.raises(Exception, match=r"authorizer\.reservedConcurrency 100 would leave 0 of the account's 10 Lambda "
                                        r"concurrent executions unreserved.* request a quota increase, or unset"):
        _render_iot(chain, {"reservedConcurrency": 100}, 10)


def test_without_reserved_concurrency_nothing_is_reserved_and_no_quota_is_read(chain):
    iot = _render_iot(chain, {"reservedConcurrency": None}, 10)
    assert "reservedConcurrentExecutions" not in one(iot, T_FUNCTION).inputs
    assert [t for t, _ in iot.invokes if t == QUOTA_TOKEN] == []


DECRYPTING = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt", "kms:CreateGrant", "kms:*")


def credentials_key(rendered):
    return next(r for r in rendered.resources if r.name == "gatekeeper-authorizer-key")


def key_policy_problems(rendered):
    """Who may use the credentials key: the authorizer's role, the operators and the deploying role
    (it creates and updates the encrypted table), only through DynamoDB."""
    key = credentials_key(rendered)
    role_arn = next(r for r in rendered.resources if r.name == "gatekeeper-authorizer-role").state["arn"]
    operators = set(example_config("iot")["authorizer"]["operatorRoleArns"])
    users = {role_arn, *operators, example_config("iot")["assumeRoleArn"]}
    problems = []
    if not key.inputs.get("policy"):
        return ["no explicit key policy"]
    for st in json.loads(key.inputs["policy"])["Statement"]:
        principal = st["Principal"]
        aws = principal.get("AWS", []) if isinstance(principal, dict) else principal
        aws = set(aws if isinstance(aws, list) else [aws])
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st["Effect"] != "Allow":
            continue
        if "*" in aws:
            problems.append(f"{st['Sid']}: principal *")
        for action in actions:
            if not action.startswith(DECRYPTING):
                continue
            condition = st.get("Condition", {})
            via = condition.get("StringEquals", {}).get("kms:ViaService")
            if via != "dynamodb.us-west-2.amazonaws.com":
                problems.append(f"{st['Sid']}: {action} not only through DynamoDB")
            if action == "kms:CreateGrant":
                if condition.get("Bool", {}).get("kms:GrantIsForAWSResource") != "true":
                    problems.append(f"{st['Sid']}: CreateGrant for anything but DynamoDB's own grants")
            elif aws - users:
                problems.append(f"{st['Sid']}: {action} for {sorted(aws - users)}")
    return problems


def test_the_credentials_key_has_an_explicit_least_privilege_policy(chain):
    iot = chain["iot-1"]
    assert key_policy_problems(iot) == []
    statements = {st["Sid"]: st for st in json.loads(credentials_key(iot).inputs["policy"])["Statement"]}
    # Administration by the deploying role (assumeRoleArn of Pulumi.iot.yaml), which never reads with the key.
    assert statements["Administration"]["Principal"]["AWS"] == ["arn:aws:iam::222222222222:role/mqtt-channel-deployer"]
    assert not any(a.startswith(DECRYPTING) for a in statements["Administration"]["Action"])
    assert "arn:aws:iam::222222222222:role/mqtt-channel-operators" in statements["UseThroughDynamoDBOnly"]["Principal"]["AWS"]


@pytest.mark.parametrize("statement,problem", [
    ({"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
      "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-west-2.amazonaws.com"}}}, "Open: principal *"),
    ({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:*",
      "Resource": "*"}, "Root: kms:* not only through DynamoDB"),
    ({"Sid": "Direct", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/mqtt-channel-operators"},
      "Action": "kms:Decrypt", "Resource": "*"}, "Direct: kms:Decrypt not only through DynamoDB"),
])
def test_a_widened_key_policy_is_caught(chain, statement, problem):
    key = credentials_key(chain["iot-1"])
    policy = json.loads(key.inputs["policy"])
    policy["Statement"].append(statement)
    widened = broken(chain["iot-1"], key.name, policy=json.dumps(policy))
    assert problem in key_policy_problems(widened)


def test_key_admins_from_config_replace_the_deployer():
    cfg = example_config("iot")
    cfg["authorizer"] = {**cfg["authorizer"], "keyAdminArns": [
        "arn:aws:iam::222222222222:role/mqtt-channel-deployer", "arn:aws:iam::222222222222:role/security"]}
    loaded = load_config(cfg, stack="iot")
    assert loaded.authorizer.key_admin_arns == (
        "arn:aws:iam::222222222222:role/mqtt-channel-deployer", "arn:aws:iam::222222222222:role/security")
