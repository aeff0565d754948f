"""DeviceAdvisor: the role AWS IoT Device Advisor assumes to qualify a certificate device (opt-in).

Device Advisor's test endpoint is outside the private channel: a device under test connects to it
(over the internet or whatever path the lab has), and Device Advisor acts for the device in IoT Core
with this role. So the stack declares only the role, trusted by ``iotdeviceadvisor.amazonaws.com``
for this account's Device Advisor resources (``aws:SourceAccount``, ``aws:SourceArn``: the confused
deputy, IAM user guide "The confused deputy problem"), and exports two documents for the
qualification window:

- ``device_permissions_document``: the MQTT actions the role needs while a suite runs. It allows
  iot:Connect without ``aws:SourceVpce`` — exactly what the policy pack's
  ``iot-connect-requires-source-vpce`` refuses in a stack — so the stack never attaches it: an
  administrator attaches it for the qualification run and removes it after.
- ``pass_role_document``: what an operator needs to start a suite with the role: ``iam:PassRole``
  on this role only, and only to ``iotdeviceadvisor.amazonaws.com``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

SERVICE = "iotdeviceadvisor.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class DeviceAdvisorArgs:
    region: str
    account_id: str
    thing_topic_prefix: str = "things"


def trust_policy(*, region: str, account_id: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": "sts:AssumeRole",
            # Only Device Advisor acting for this account's suites (iotdeviceadvisor ARNs:
            # suitedefinition/... and suiterun/..., Service Authorization Reference).
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": f"arn:aws:iotdeviceadvisor:{region}:{account_id}:*"},
            },
        }],
    }


def device_permissions_document(*, region: str, account_id: str, topic_prefix: str) -> dict:
    arn = f"arn:aws:iot:{region}:{account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{arn}:client/*"},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": f"{arn}:topic/{topic_prefix}/*"},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{arn}:topicfilter/{topic_prefix}/*"},
        ],
    }


def pass_role_document(role_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": SERVICE}},
        }],
    }


class DeviceAdvisor(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """The role a Device Advisor suite definition names (devicePermissionRoleArn)."""
    pass_role_policy: pulumi.Output[str]
    """JSON: iam:PassRole on the role, to Device Advisor only; for the operators' role."""
    device_permissions_policy: str
    """JSON: the role's MQTT permissions for a qualification run (outside the channel: not attached)."""

    def __init__(self, name: str, args: DeviceAdvisorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("channel:iot:DeviceAdvisor", name, None, opts)
        role = aws.iam.Role(
            f"{name}-role",
            description="AWS IoT Device Advisor acts for a device under test (qualification only, outside the channel)",
            assume_role_policy=json.dumps(trust_policy(region=args.region, account_id=args.account_id)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_arn = role.arn
        self.pass_role_policy = role.arn.apply(lambda arn: json.dumps(pass_role_document(arn)))
        self.device_permissions_policy = json.dumps(device_permissions_document(
            region=args.region, account_id=args.account_id, topic_prefix=args.thing_topic_prefix
        ))
        self.register_outputs({"role_arn": self.role_arn, "pass_role_policy": self.pass_role_policy})
