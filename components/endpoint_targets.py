"""An NLB TCP listener forwarding to the iot.data endpoint IPs.

Used for the consumers' 8883/443 listeners and for tcp-passthrough device
families: the client's own TLS (ALPN, SNI) travels through untouched.
"""

from __future__ import annotations

from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.private_iot_channel import slug


def forward_to_endpoints(
    group_name: str,
    *,
    listener_name: str,
    tag_name: str,
    listener_port: int,
    target_port: int,
    vpc_id: pulumi.Input[str],
    nlb_arn: pulumi.Input[str],
    endpoint_ips: Sequence[str],
    endpoints: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
    aws_name: str | None = None,
) -> aws.lb.TargetGroup:
    """``aws_name``: the target group's name in AWS; None lets Pulumi auto-name it
    after ``group_name`` (which must then leave room for the 8 characters
    auto-naming appends, aws_limits)."""
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.lb.TargetGroup(
        group_name,
        name=aws_name,
        port=target_port,
        protocol="TCP",
        target_type="ip",
        vpc_id=vpc_id,
        # Must stay off when the targets are PrivateLink ENIs.
        preserve_client_ip="false",
        health_check=aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", port="traffic-port"),
        tags={"Name": tag_name},
        opts=child,
    )
    for ip in endpoint_ips:
        aws.lb.TargetGroupAttachment(
            f"{group_name}-{slug(ip)}",
            target_group_arn=group.arn,
            target_id=ip,
            port=target_port,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=list(endpoints)),
        )
    aws.lb.Listener(
        listener_name,
        load_balancer_arn=nlb_arn,
        port=listener_port,
        protocol="TCP",
        default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)],
        opts=child,
    )
    return group
