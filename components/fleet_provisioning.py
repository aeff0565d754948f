"""FleetProvisioning: certificate devices provisioned through the gatekeeper, by claim or just in time.

By claim (``fleetProvisioning.enabled``): a device holding the shared claim certificate connects
through the gatekeeper's iot.data endpoints (the claim policy allows nothing else), asks IoT Core
for its own key and certificate (``$aws/certificates/create/<format>``) and registers itself with
the template (``$aws/provisioning-templates/<name>/provision/<format>``). The pre-provisioning hook
(``provisioning_hook/``) admits only devices the operator listed in the allow-list table; the
template then creates the thing (name = the listed name), activates the certificate and attaches
the channel's certificate-device policy, so the device connects as client ID = thing name and only
through the gatekeeper (``components/iot_policy.py``).

Just in time (``fleetProvisioning.jitp``): the company CA is registered with a JITP template; a
device whose certificate that CA signed is provisioned on its first connection (thing name = the
certificate's common name) with the same policy. A JITP template takes no pre-provisioning hook
(CreateProvisioningTemplate: "Only supports template of type FLEET_PROVISIONING"): the CA's
signature is the admission.

Everything here is pulumi-aws (``aws.iot.ProvisioningTemplate``, ``aws.iot.CaCertificate``); no
resource of this component needs pulumi-aws-native.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.config.provisioning import FleetProvisioningConfig, allow_list_table_name
from components.lambda_parts import function_name, package_archive, service_trust_policy

HOOK_DIR = Path(__file__).resolve().parents[1] / "provisioning_hook"
HOOK_HANDLER = "provisioning_hook.handler.handler"
RUNTIME = "python3.13"
# A pre-provisioning hook must return within 5 s or the request fails (AWS IoT Core developer guide,
# "Pre-provisioning hooks").
HOOK_TIMEOUT_SECONDS = 5
HTTPS_PORT = 443
# The template parameter a device sends its name in (provisioning_hook/decision.py reads the same).
NAME_PARAMETER = "SerialNumber"
# The MQTT payload formats of the provisioning API (AWS IoT Core developer guide, "Device provisioning
# MQTT API": payload-format json or cbor).
PAYLOAD_FORMATS = ("json", "cbor")
# CreateProvisioningTemplate type values (AWS IoT API reference; terraform-provider-aws validates the enum).
FLEET_PROVISIONING = "FLEET_PROVISIONING"
JITP = "JITP"
# The only payload version a pre-provisioning hook takes (terraform-provider-aws
# internal/service/iot/provisioning_template.go, provisioningHookPayloadVersion2020_04_01).
HOOK_PAYLOAD_VERSION = "2020-04-01"


@dataclass(frozen=True, kw_only=True)
class FleetProvisioningArgs:
    config: FleetProvisioningConfig
    stack: str
    region: str
    account_id: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    route_table_ids: Sequence[pulumi.Input[str]]
    data_endpoint_ids: Sequence[pulumi.Input[str]]
    """The claim certificate connects only through these iot.data endpoints."""
    thing_policy_name: pulumi.Input[str]
    """The channel's certificate-device policy (components/iot_policy.py): what every provisioned device gets."""
    log_retention_days: int = 365
    """The hook's log group retention: the stack's ``monitoring.logRetentionDays``."""
    dynamodb_endpoint_shared: bool = False
    """True when the VPC already has a DynamoDB gateway endpoint whose policy lets the hook read the
    allow-list table (the custom authorizer's); AWS refuses a second gateway endpoint route for one
    service in a route table (VPC user guide, gateway endpoints)."""


# --------------------------------------------------------------------------- #
# Pure documents (tested without Pulumi)
# --------------------------------------------------------------------------- #


def template_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:iot:{region}:{account_id}:provisioningtemplate/{name}"


def hook_function_name(stack: str) -> str:
    """One per stack."""
    return function_name("mqtt-provisioning-hook", stack)


def claim_topics(template_name: str) -> dict[str, list[str]]:
    """The provisioning API's topics for one template (AWS IoT Core developer guide, "Device provisioning
    MQTT API": CreateKeysAndCertificate and RegisterThing): what a claim device publishes to and the
    accepted/rejected replies it subscribes to and receives."""
    publish, replies = [], []
    for fmt in PAYLOAD_FORMATS:
        for base in ("$aws/certificates/create", f"$aws/provisioning-templates/{template_name}/provision"):
            publish.append(f"{base}/{fmt}")
            replies += [f"{base}/{fmt}/accepted", f"{base}/{fmt}/rejected"]
    return {"publish": publish, "replies": replies}


def claim_policy_document(
    *, region: str, account_id: str, template_name: str, data_endpoint_ids: Sequence[str]
) -> dict:
    """The claim certificate's IoT policy: Connect only through the gatekeeper's iot.data endpoints, and
    only the provisioning topics of this stack's template (AWS IoT Core developer guide, "Provisioning
    by claim", claim certificate policy example, narrowed to the exact topics)."""
    if not data_endpoint_ids:
        raise ValueError("a claim policy without iot.data endpoint IDs would allow Connect from anywhere")
    arn = f"arn:aws:iot:{region}:{account_id}"
    topics = claim_topics(template_name)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectThroughGatekeeper",
                "Effect": "Allow",
                "Action": "iot:Connect",
                # A claim device has no thing yet: any client ID, but only through the gatekeeper.
                "Resource": f"{arn}:client/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": sorted(data_endpoint_ids)}},
            },
            {
                "Sid": "PublishProvisioningRequests",
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": [f"{arn}:topic/{t}" for t in topics["publish"]],
            },
            {
                "Sid": "ReceiveProvisioningReplies",
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": [f"{arn}:topic/{t}" for t in topics["replies"]],
            },
            {
                "Sid": "SubscribeProvisioningReplies",
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [f"{arn}:topicfilter/{t}" for t in topics["replies"]],
            },
        ],
    }


def _registration_resources(thing_name_ref: str, policy_name: str) -> dict:
    return {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": thing_name_ref}}},
        "certificate": {
            "Type": "AWS::IoT::Certificate",
            "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"},
        },
        "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": policy_name}},
    }


def fleet_template_body(policy_name: str) -> dict:
    """The claim template (AWS IoT Core developer guide, "Provisioning templates", fleet provisioning):
    the thing named after the device's ``SerialNumber``, the name the hook found on the allow-list, the
    new certificate activated, the channel's policy attached."""
    return {
        "Parameters": {
            NAME_PARAMETER: {"Type": "String"},
            "AWS::IoT::Certificate::Id": {"Type": "String"},
        },
        "Resources": _registration_resources(NAME_PARAMETER, policy_name),
    }


def jitp_template_body(policy_name: str) -> dict:
    """The JITP template (AWS IoT Core developer guide, "Just-in-time provisioning"): the thing is named
    after the certificate's subject common name, which JITP extracts from the device's certificate."""
    return {
        "Parameters": {
            "AWS::IoT::Certificate::CommonName": {"Type": "String"},
            "AWS::IoT::Certificate::Id": {"Type": "String"},
        },
        "Resources": _registration_resources("AWS::IoT::Certificate::CommonName", policy_name),
    }


# What the template's three resources need from the provisioning role: the subset of the AWS managed
# policy AWSIoTThingsRegistration (AWS managed policy reference, version 3: thing, certificate, policy,
# thing-group and billing-group actions on "*") that creates or finds a thing, activates a certificate
# and attaches a policy and the certificate. Groups, CreatePolicy, Detach*, List* and
# CreateCertificateFromCsr are left out: the templates use none of them. Resources as the AWS IoT
# developer guide's API permissions table ("IAM IoT policies") gives them: CreateThing and
# DescribeThing act on the thing; AttachThingPrincipal, AttachPolicy, AttachPrincipalPolicy,
# DescribeCertificate and UpdateCertificate on the certificate; GetPolicy on the policy. AttachPolicy
# is authorized on the certificate, not on the policy, so IAM cannot narrow which policy is attached:
# the template names the channel's policy, and the role may read only that one.
PROVISIONING_THING_ACTIONS = ("iot:CreateThing", "iot:DescribeThing")
PROVISIONING_CERTIFICATE_ACTIONS = (
    "iot:AttachPolicy", "iot:AttachPrincipalPolicy", "iot:AttachThingPrincipal", "iot:DescribeCertificate",
    "iot:UpdateCertificate",
)
PROVISIONING_POLICY_ACTIONS = ("iot:GetPolicy",)


def provisioning_role_policy(*, region: str, account_id: str, policy_name: str) -> dict:
    arn = f"arn:aws:iot:{region}:{account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Things", "Effect": "Allow", "Action": list(PROVISIONING_THING_ACTIONS),
             "Resource": f"{arn}:thing/*"},
            {"Sid": "Certificates", "Effect": "Allow", "Action": list(PROVISIONING_CERTIFICATE_ACTIONS),
             "Resource": f"{arn}:cert/*"},
            {"Sid": "TheChannelPolicy", "Effect": "Allow", "Action": list(PROVISIONING_POLICY_ACTIONS),
             "Resource": f"{arn}:policy/{policy_name}"},
        ],
    }


def hook_code() -> pulumi.AssetArchive:
    """The package ``provisioning_hook/`` at the archive root: runtime files only."""
    return package_archive(HOOK_DIR)


# --------------------------------------------------------------------------- #
# The component
# --------------------------------------------------------------------------- #


class FleetProvisioning(pulumi.ComponentResource):
    template_name: str | None
    """The claim template (None when provisioning by claim is off)."""
    claim_policy_name: pulumi.Output[str] | None
    """The IoT policy to attach to the claim certificate."""
    allow_list_table: str | None
    """The hook's allow-list table (partition key ``device``)."""
    jitp_template_name: str | None

    def __init__(self, name: str, args: FleetProvisioningArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:iot:FleetProvisioning", name, None, opts)
        cfg = args.config
        region, account = args.region, args.account_id
        provider = opts.provider if opts else None
        child = pulumi.ResourceOptions(parent=self)
        self.template_name = cfg.template_name if cfg.enabled else None
        self.jitp_template_name = cfg.jitp_template_name if cfg.jitp else None
        self.claim_policy_name = None
        self.allow_list_table = None
        if not (cfg.enabled or cfg.jitp):
            self.register_outputs({})
            return

        # --- the provisioning role: what IoT Core does for a template -------------
        role = aws.iam.Role(
            f"{name}-provisioning-role",
            description="AWS IoT provisioning templates: create the thing, activate the certificate, attach the channel policy",
            # Not confirmed that IoT Core sets aws:SourceArn/aws:SourceAccount when it assumes a
            # provisioning role; a condition it does not satisfy would refuse every device, so none.
            assume_role_policy=service_trust_policy("iot.amazonaws.com"),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-provisioning",
            role=role.id,
            policy=pulumi.Output.from_input(args.thing_policy_name).apply(
                lambda policy: json.dumps(provisioning_role_policy(region=region, account_id=account, policy_name=policy))
            ),
            opts=child,
        )
        # A template is created with its role: it waits for the role's permissions too.
        after_role = pulumi.ResourceOptions(parent=self, depends_on=[role_policy])
        templates: list[aws.iot.ProvisioningTemplate] = []
        policy_body = pulumi.Output.from_input(args.thing_policy_name)

        if cfg.enabled:
            templates.append(self._claim(name, args, role, role_policy, policy_body, provider))
        if cfg.jitp is not None:
            jitp_template = aws.iot.ProvisioningTemplate(
                f"{name}-jitp-template",
                name=cfg.jitp_template_name,
                description="Just-in-time provisioning of devices signed by the company CA, through the gatekeeper",
                type=JITP,
                enabled=True,
                provisioning_role_arn=role.arn,
                template_body=policy_body.apply(lambda p: json.dumps(jitp_template_body(p), sort_keys=True)),
                opts=after_role,
            )
            templates.append(jitp_template)
            aws.iot.CaCertificate(
                f"{name}-company-ca",
                active=True,
                allow_auto_registration=True,
                ca_certificate_pem=cfg.jitp.ca_certificate_pem,
                verification_certificate_pem=cfg.jitp.verification_certificate_pem,
                certificate_mode="DEFAULT",
                registration_config=aws.iot.CaCertificateRegistrationConfigArgs(template_name=jitp_template.name),
                # Every field above but the registration config forces a new registration (terraform-provider-aws
                # iot/ca_certificate.go, ForceNew), and a certificate's ID is its SHA-256 fingerprint: registering
                # the same CA again next to the old one (a new verification certificate or mode) meets
                # ResourceAlreadyExistsException (IoT API reference, RegisterCACertificate, Errors; not tried
                # here, as nothing reaches AWS). So the old
                # registration goes first (the provider sets it INACTIVE, then deletes it); until the new one
                # exists, a device's first connection is refused and its retry provisions it.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        self.register_outputs({
            "template_name": self.template_name,
            "jitp_template_name": self.jitp_template_name,
            "claim_policy_name": self.claim_policy_name,
            "allow_list_table": self.allow_list_table,
        })

    def _claim(self, name, args: FleetProvisioningArgs, role, role_policy, policy_body, provider):
        cfg, region, account = args.config, args.region, args.account_id
        child = pulumi.ResourceOptions(parent=self)
        arn = template_arn(region, account, cfg.template_name)

        # --- the allow-list (serial numbers, password devices' user names) -------
        table_name = allow_list_table_name(args.stack)
        table = aws.dynamodb.Table(
            f"{name}-allow-list",
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="device",
            attributes=[aws.dynamodb.TableAttributeArgs(name="device", type="S")],
            # Serial numbers and user names, no secret: DynamoDB's AWS managed key.
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=True,
            opts=child,
        )
        self.allow_list_table = table_name
        dynamodb_service = f"com.amazonaws.{region}.dynamodb"
        if not args.dynamodb_endpoint_shared:
            aws.ec2.VpcEndpoint(
                f"{name}-dynamodb",
                vpc_id=args.vpc_id,
                service_name=dynamodb_service,
                vpc_endpoint_type="Gateway",
                route_table_ids=list(args.route_table_ids),
                policy=table.arn.apply(lambda t: json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": t}],
                })),
                opts=child,
            )
        prefix_list = aws.ec2.get_prefix_list(
            name=dynamodb_service, opts=pulumi.InvokeOptions(provider=provider, parent=self)
        )
        sg = aws.ec2.SecurityGroup(
            f"{name}-hook-sg",
            vpc_id=args.vpc_id,
            description="Pre-provisioning hook: no inbound; HTTPS out to the DynamoDB gateway endpoint only",
            egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT, prefix_list_ids=[prefix_list.id],
                description="DynamoDB",
            )],
            opts=child,
        )

        # --- the hook Lambda ------------------------------------------------------
        hook_role = aws.iam.Role(f"{name}-hook-role", assume_role_policy=service_trust_policy("lambda.amazonaws.com"), opts=child)
        vpc_access = aws.iam.RolePolicyAttachment(
            f"{name}-hook-vpc-access",
            role=hook_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            opts=child,
        )
        read_list = aws.iam.RolePolicy(
            f"{name}-hook-read-allow-list",
            role=hook_role.id,
            policy=table.arn.apply(lambda t: json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": t}],
            })),
            opts=child,
        )
        function_name = hook_function_name(args.stack)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-hook-logs", name=f"/aws/lambda/{function_name}", retention_in_days=args.log_retention_days, opts=child
        )
        function = aws.lambda_.Function(
            f"{name}-hook",
            name=function_name,
            description="AWS IoT pre-provisioning hook: admits only devices on the allow-list",
            runtime=RUNTIME,
            architectures=["arm64"],
            handler=HOOK_HANDLER,
            code=hook_code(),
            role=hook_role.arn,
            timeout=HOOK_TIMEOUT_SECONDS,
            # Lambda's default memory (Lambda developer guide, "Configure Lambda function memory": 128 MB
            # default, 128-10,240): the hook makes one GetItem per request; not measured here.
            memory_size=128,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(subnet_ids=list(args.subnet_ids), security_group_ids=[sg.id]),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"ALLOW_LIST_TABLE": table.name, "TEMPLATE_ARN": arn}
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, vpc_access, read_list]),
        )
        # Only this template invokes the hook (AWS IoT Core developer guide, "Pre-provisioning hooks":
        # source ARN or source account against the confused deputy).
        permission = aws.lambda_.Permission(
            f"{name}-hook-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="iot.amazonaws.com",
            source_arn=arn,
            source_account=account,
            opts=child,
        )

        # --- the claim certificate's policy ---------------------------------------
        claim_policy = aws.iot.Policy(
            f"{name}-claim-policy",
            policy=pulumi.Output.all(*args.data_endpoint_ids).apply(
                lambda ids: json.dumps(claim_policy_document(
                    region=region, account_id=account, template_name=cfg.template_name, data_endpoint_ids=ids,
                ), separators=(",", ":"))
            ),
            opts=child,
        )
        self.claim_policy_name = claim_policy.name

        return aws.iot.ProvisioningTemplate(
            f"{name}-template",
            name=cfg.template_name,
            description="Provisioning by claim through the gatekeeper; the hook admits listed devices only",
            type=FLEET_PROVISIONING,
            enabled=True,
            provisioning_role_arn=role.arn,
            pre_provisioning_hook=aws.iot.ProvisioningTemplatePreProvisioningHookArgs(
                target_arn=function.arn, payload_version=HOOK_PAYLOAD_VERSION
            ),
            template_body=policy_body.apply(lambda p: json.dumps(fleet_template_body(p), sort_keys=True)),
            # The hook must be invocable and the role usable before a device can be provisioned.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission, role_policy]),
        )
