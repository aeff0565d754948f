"""The one explicit AWS provider of a stack.

Pulumi.yaml turns the default aws provider off, so every resource must be
given this provider (components pass it down through ``ResourceOptions``).
``allowed_account_ids`` pins the account: applying a stack with credentials
for any other account fails before anything changes.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from components.config import PROJECT, CommonConfig


def default_tags(common: CommonConfig) -> dict[str, str]:
    """Tags on every resource: user tags cannot override the project's own."""
    return dict(common.tags) | {"project": PROJECT, "stack": common.stack, "role": common.role}


def build_provider(common: CommonConfig) -> aws.Provider:
    assume_roles = (
        [aws.ProviderAssumeRoleArgs(role_arn=common.assume_role_arn, session_name=f"{PROJECT}-{common.stack}"[:64])]
        if common.assume_role_arn
        else None
    )
    return aws.Provider(
        f"{common.role}-{common.account_id}",
        region=common.region,
        allowed_account_ids=[common.account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(common)),
    )


def build_native_provider(common: CommonConfig) -> aws_native.Provider:
    """The stack's AWS Cloud Control provider, pinned like the aws one: same account, role and tags.

    Only for what pulumi-aws lacks (Device Defender's audit configuration,
    scheduled audit and security profile).
    """
    assume_role = (
        aws_native.ProviderAssumeRoleArgs(role_arn=common.assume_role_arn, session_name=f"{PROJECT}-{common.stack}"[:64])
        if common.assume_role_arn
        else None
    )
    return aws_native.Provider(
        f"{common.role}-{common.account_id}-native",
        region=common.region,
        allowed_account_ids=[common.account_id],
        assume_role=assume_role,
        default_tags=aws_native.ProviderDefaultTagsArgs(tags=default_tags(common)),
    )


def child_opts(provider: aws.Provider, **kwargs) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(provider=provider, **kwargs)
