"""The calls behind the Device Defender resources, which pulumi-aws-native creates through AWS Cloud Control.

Not terraform-provider-aws: pulumi-aws-native calls Cloud Control API (IAM prefix ``cloudformation``),
which calls AWS IoT as the caller with the permissions the resource type's CloudFormation handlers
list (Cloud Control API user guide, "Identity and access management"). Same shape as
``provider_calls.PROVIDER_CALLS``, which merges this table.
"""

from __future__ import annotations

from channelctl.plan.calls import Calls, _ops

_IOT_TAGS = _ops("iot", "TagResource", "UntagResource")
_CC_CREATE = _ops("cloudcontrol", "CreateResource", "GetResourceRequestStatus")
_CC_READ = _ops("cloudcontrol", "GetResource")
_CC_UPDATE = _ops("cloudcontrol", "UpdateResource", "GetResourceRequestStatus")
_CC_DELETE = _ops("cloudcontrol", "DeleteResource", "GetResourceRequestStatus")

CLOUD_CONTROL_CALLS: dict[str, Calls] = {
    "aws-native:iot:AccountAuditConfiguration": Calls(
        "pulumi/pulumi-aws-native: Cloud Control, AWS::IoT::AccountAuditConfiguration handlers",
        create=_CC_CREATE + _ops("iot", "UpdateAccountAuditConfiguration"),
        read=_CC_READ + _ops("iot", "DescribeAccountAuditConfiguration"),
        update=_CC_UPDATE + _ops("iot", "UpdateAccountAuditConfiguration"),
        delete=_CC_DELETE + _ops("iot", "DeleteAccountAuditConfiguration")),
    "aws-native:iot:ScheduledAudit": Calls(
        "pulumi/pulumi-aws-native: Cloud Control, AWS::IoT::ScheduledAudit handlers",
        create=_CC_CREATE + _ops("iot", "CreateScheduledAudit", "TagResource"),
        read=_CC_READ + _ops("iot", "DescribeScheduledAudit", "ListTagsForResource"),
        update=_CC_UPDATE + _ops("iot", "UpdateScheduledAudit") + _IOT_TAGS,
        delete=_CC_DELETE + _ops("iot", "DeleteScheduledAudit")),
    "aws-native:iot:SecurityProfile": Calls(
        "pulumi/pulumi-aws-native: Cloud Control, AWS::IoT::SecurityProfile handlers",
        create=_CC_CREATE + _ops("iot", "CreateSecurityProfile", "AttachSecurityProfile"),
        read=_CC_READ + _ops("iot", "DescribeSecurityProfile", "ListTargetsForSecurityProfile",
                             "ListTagsForResource"),
        update=_CC_UPDATE + _ops("iot", "UpdateSecurityProfile", "AttachSecurityProfile",
                                 "DetachSecurityProfile") + _IOT_TAGS,
        delete=_CC_DELETE + _ops("iot", "DeleteSecurityProfile")),
}
