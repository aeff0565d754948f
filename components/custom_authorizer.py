"""CustomAuthorizer: username/password devices keep their credentials.

The credentials table (KMS-encrypted, point-in-time recovery, deletion
protection), the authorizer Lambda from ``authorizer/`` inside the gatekeeper
VPC (reaching DynamoDB through a gateway endpoint, allowed GetItem on the table
and an UpdateItem of a record's password hash only), the IoT authorizer with its invoke permission, and the custom domain's
domain configuration that makes this authorizer the default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.config import AuthorizerConfig
from components.lambda_parts import function_name, package_archive, service_trust_policy

AUTHORIZER_DIR = Path(__file__).resolve().parents[1] / "authorizer"
HANDLER = "authorizer.handler.handler"
RUNTIME = "python3.13"
# IoT Core waits at most 5 s for a custom authorizer.
TIMEOUT_SECONDS = 5
TLS_POLICY = "IoTSecurityPolicy_TLS13_1_2_2022_10"
HTTPS_PORT = 443
# What the authorizer's UpdateItem may name (DynamoDB condition key dynamodb:Attributes:
# the key and every attribute the request names).
UPGRADE_ATTRIBUTES = (
    "username", "password_hash", "updated_at", "failed_attempts", "failed_since", "locked_until",
    "password_login_at",  # a migrating device's last password login (authorizer/migration.py)
)


@dataclass(frozen=True, kw_only=True)
class CustomAuthorizerArgs:
    config: AuthorizerConfig
    stack: str
    region: str
    account_id: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    route_table_ids: Sequence[pulumi.Input[str]]
    data_endpoint_ids: Sequence[pulumi.Input[str]]
    """Connect is allowed only through these iot.data endpoints."""
    custom_domain: str
    certificate_arn: str
    thing_topic_prefix: str = "things"
    """The certificate devices' topic prefix; the authorizer refuses families overlapping it."""
    deployer_role_arn: str | None = None
    """The role deploying the stack; the credentials key's default administrator."""
    migrating_families: Sequence[str] = ()
    """Password families moving to certificates (fleetProvisioning.migratingFamilies, authorizer/migration.py)."""
    provisioning_template: str = ""
    """The claim template those devices register with (fleetProvisioning.templateName)."""
    endpoint_read_table_arns: Sequence[str] = ()
    """Other tables functions in the VPC read (GetItem) through this DynamoDB gateway endpoint, the
    VPC's only one (the fleet-provisioning hook's allow-list, components/fleet_provisioning.py)."""


def authorizer_function_name(stack: str) -> str:
    """The authorizer's Lambda function name (and so its log group, ``/aws/lambda/<name>``): one
    per stack."""
    return function_name("mqtt-authorizer", stack)


def lambda_code() -> pulumi.AssetArchive:
    """The package ``authorizer/`` at the archive root: runtime files only."""
    return package_archive(AUTHORIZER_DIR)


# What administers the key and never reads with it (KMS developer guide, "Key policies":
# key administrators). CreateGrant is not among them: a grant could hand out Decrypt.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
# Using a customer managed key through DynamoDB: AWS KMS developer guide, "How Amazon
# DynamoDB uses AWS KMS" (docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html),
# "Key policy for a customer managed key", and DynamoDB developer guide, "DynamoDB encryption
# at rest": the principals that create, update and use the table need kms:Encrypt, kms:Decrypt,
# kms:ReEncrypt*, kms:GenerateDataKey*, kms:DescribeKey and kms:CreateGrant, each only when
# DynamoDB calls on their behalf (kms:ViaService dynamodb.<region>.amazonaws.com) for this
# account (kms:CallerAccount). DynamoDB creates grants when a table is created or restored.
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")


def credentials_key_policy(
    *,
    account_id: str,
    region: str,
    admin_arns: Sequence[str],
    user_arns: Sequence[str],
    deployer_arns: Sequence[str] = (),
) -> dict:
    """The credentials table key: administered by admin_arns, used only by user_arns and the
    deployer (which creates and updates the encrypted table), and only through DynamoDB."""
    through_dynamodb = {
        "StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com", "kms:CallerAccount": account_id}
    }
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Administration",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(admin_arns)},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
            {
                # Creating or restoring the table: DynamoDB creates its grants on the deployer's behalf.
                "Sid": "DynamoDBGrantsForTheTable",
                "Effect": "Allow",
                "Principal": {"AWS": sorted({*admin_arns, *deployer_arns})},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {**through_dynamodb, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            *([{
                # CreateTable and UpdateTable with the key: DynamoDB encrypts and describes
                # with the deploying role's permissions (the guide above), through DynamoDB only.
                "Sid": "DeployerThroughDynamoDBOnly",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(deployer_arns)},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": through_dynamodb,
            }] if deployer_arns else []),
            {
                "Sid": "UseThroughDynamoDBOnly",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(user_arns)},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": through_dynamodb,
            },
            {
                "Sid": "DynamoDBDescribesTheKey",
                "Effect": "Allow",
                "Principal": {"Service": "dynamodb.amazonaws.com"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


class CustomAuthorizer(pulumi.ComponentResource):
    table_name: pulumi.Output[str]
    """The credentials table (partition key ``username``)."""
    authorizer_name: pulumi.Output[str]
    """The IoT authorizer, default on the custom domain."""
    function_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    """The credentials table's key (the monitoring's key-change alarm watches it)."""

    def __init__(self, name: str, args: CustomAuthorizerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:iot:CustomAuthorizer", name, None, opts)
        cfg = args.config
        provider = opts.provider if opts else None
        child = pulumi.ResourceOptions(parent=self)

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust_policy("lambda.amazonaws.com"),
            opts=child,
        )
        admins = list(cfg.key_admin_arns) or (
            [args.deployer_role_arn] if args.deployer_role_arn else [f"arn:aws:iam::{args.account_id}:root"]
        )
        key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the MQTT device credentials table",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=role.arn.apply(
                lambda role_arn: json.dumps(
                    credentials_key_policy(
                        account_id=args.account_id,
                        region=args.region,
                        admin_arns=admins,
                        user_arns=[role_arn, *cfg.operator_role_arns],
                        # The role the provider assumes (assumeRoleArn). Without one the provider
                        # runs with whatever credentials run `pulumi up`: the stack's config names
                        # no ARN for them, so none can be written here (the key's administrators
                        # must add that principal, or the stack set assumeRoleArn).
                        deployer_arns=[args.deployer_role_arn] if args.deployer_role_arn else [],
                    ),
                    sort_keys=True,
                )
            ),
            opts=child,
        )
        table = aws.dynamodb.Table(
            f"{name}-credentials",
            billing_mode="PAY_PER_REQUEST",
            hash_key="username",
            attributes=[aws.dynamodb.TableAttributeArgs(name="username", type="S")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=key.arn),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=True,
            opts=child,
        )

        # DynamoDB through a gateway endpoint: the function has no other way out.
        dynamodb_service = f"com.amazonaws.{args.region}.dynamodb"
        endpoint_policy = table.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
                            "Resource": arn,
                        }
                    ]
                    + (
                        [{
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "dynamodb:GetItem",
                            "Resource": sorted(args.endpoint_read_table_arns),
                        }]
                        if args.endpoint_read_table_arns
                        else []
                    ),
                }
            )
        )
        aws.ec2.VpcEndpoint(
            f"{name}-dynamodb",
            vpc_id=args.vpc_id,
            service_name=dynamodb_service,
            vpc_endpoint_type="Gateway",
            route_table_ids=list(args.route_table_ids),
            policy=endpoint_policy,
            opts=child,
        )
        prefix_list = aws.ec2.get_prefix_list(
            name=dynamodb_service, opts=pulumi.InvokeOptions(provider=provider, parent=self)
        )
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Custom authorizer: no inbound; HTTPS out to the DynamoDB gateway endpoint only",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=HTTPS_PORT,
                    to_port=HTTPS_PORT,
                    prefix_list_ids=[prefix_list.id],
                    description="DynamoDB",
                )
            ],
            opts=child,
        )

        # ENIs in the VPC and its own log stream; nothing else but the table.
        vpc_access = aws.iam.RolePolicyAttachment(
            f"{name}-vpc-access",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            opts=child,
        )
        read_credentials = aws.iam.RolePolicy(
            f"{name}-read-credentials",
            role=role.id,
            policy=pulumi.Output.all(table.arn, key.arn).apply(
                lambda arns: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": arns[0]},
                            {
                                # The hash upgrade on login and the failed-attempt count (authorizer/store.py):
                                # those attributes of an item, never the flags that refuse a device.
                                "Effect": "Allow",
                                "Action": "dynamodb:UpdateItem",
                                "Resource": arns[0],
                                "Condition": {
                                    "ForAllValues:StringEquals": {"dynamodb:Attributes": list(UPGRADE_ATTRIBUTES)},
                                    "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"},
                                },
                            },
                            {
                                # Reading a table encrypted with a customer key.
                                "Effect": "Allow",
                                "Action": "kms:Decrypt",
                                "Resource": arns[1],
                                "Condition": {"StringEquals": {"kms:ViaService": f"dynamodb.{args.region}.amazonaws.com"}},
                            },
                        ],
                    }
                )
            ),
            opts=child,
        )

        function_name = authorizer_function_name(args.stack)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=cfg.log_retention_days,
            opts=child,
        )
        environment = {
            "CREDENTIALS_TABLE": table.name,
            "DATA_ENDPOINT_IDS": pulumi.Output.all(*args.data_endpoint_ids).apply(lambda ids: ",".join(sorted(ids))),
            "IOT_REGION": args.region,
            "IOT_ACCOUNT_ID": args.account_id,
            "DISCONNECT_AFTER_SECONDS": str(cfg.disconnect_after_seconds),
            "REFRESH_AFTER_SECONDS": str(cfg.refresh_after_seconds),
            "FAMILY_TOPIC_PREFIXES": json.dumps(dict(cfg.family_topic_prefixes), sort_keys=True),
            "THING_TOPIC_PREFIX": args.thing_topic_prefix,
            "MAX_FAILED_ATTEMPTS": str(cfg.max_failed_attempts),
            "LOCKOUT_SECONDS": str(cfg.lockout_seconds),
            "LOCKOUT_EXEMPT_FAMILIES": ",".join(cfg.lockout_exempt_families),
            "UNKNOWN_USER_HASH": cfg.unknown_user_hash,
        }
        if args.migrating_families:
            environment["MIGRATING_FAMILIES"] = ",".join(args.migrating_families)
            environment["PROVISIONING_TEMPLATE"] = args.provisioning_template
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="AWS IoT Core custom authorizer: verifies imported MQTT password hashes",
            runtime=RUNTIME,
            architectures=["arm64"],
            handler=HANDLER,
            code=lambda_code(),
            role=role.arn,
            timeout=TIMEOUT_SECONDS,
            memory_size=cfg.memory_size,
            reserved_concurrent_executions=cfg.reserved_concurrency,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(subnet_ids=list(args.subnet_ids), security_group_ids=[sg.id]),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            # The role's permissions (ENIs in the VPC, the table) exist before the function:
            # role=role.arn alone orders it after the role, not after its policies.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, vpc_access, read_credentials]),
        )
        authorizer = aws.iot.Authorizer(
            f"{name}-authorizer",
            name=f"mqtt-password-{args.stack}"[:128],
            authorizer_function_arn=function.arn,
            # Devices send username/password, not a signed token.
            signing_disabled=True,
            status="ACTIVE",
            enable_caching_for_http=False,
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="iot.amazonaws.com",
            source_arn=authorizer.arn,
            source_account=args.account_id,
            opts=child,
        )
        aws.iot.DomainConfiguration(
            f"{name}-domain",
            name=f"mqtt-{args.custom_domain.replace('.', '-')}"[:128],
            domain_name=args.custom_domain,
            server_certificate_arns=[args.certificate_arn],
            service_type="DATA",
            authentication_type="CUSTOM_AUTH",
            application_protocol="SECURE_MQTT",
            authorizer_config=aws.iot.DomainConfigurationAuthorizerConfigArgs(
                default_authorizer_name=authorizer.name, allow_authorizer_override=False
            ),
            tls_config=aws.iot.DomainConfigurationTlsConfigArgs(security_policy=TLS_POLICY),
            status="ENABLED",
            # name, domain_name and server_certificate_arns force a new domain
            # configuration (terraform-provider-aws iot/domain_configuration.go,
            # ForceNew), and a domain name belongs to one domain configuration at a
            # time: a replacement created before the old one is deleted is refused.
            # Delete first; the custom domain is not served until the new one exists.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.table_name = table.name
        self.authorizer_name = authorizer.name
        self.function_arn = function.arn
        self.function_name = function.name
        self.key_arn = key.arn
        self.register_outputs(
            {"table_name": table.name, "authorizer_name": authorizer.name, "function_arn": function.arn}
        )
