"""Building blocks shared by the stacks' VPCs: private subnets, one route
table, and the Systems Manager endpoints that replace SSH and internet access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws
from components.lambda_parts import service_trust_policy

HTTPS_PORT = 443
SSM_SERVICES = ("ssm", "ssmmessages", "ec2messages")


@dataclass
class PrivateNetwork:
    vpc: aws.ec2.Vpc
    subnets: list[aws.ec2.Subnet]
    route_table: aws.ec2.RouteTable
    reservations: list[aws.ec2.SubnetCidrReservation]
    """The explicit reservations that hold the fixed addresses, every subnet's: a resource
    with a fixed address depends on them, and so does every ENI AWS addresses itself
    (it must find them in place, components/addressing.py)."""


def private_vpc(
    name: str, *, cidr: str, zones: Sequence[str], subnet_ranges: Sequence[str], label: str, parent: pulumi.Resource,
    reserved_blocks: Sequence[Sequence[str]] = (),
) -> PrivateNetwork:
    """A VPC with one private subnet per AZ and one route table: no internet
    gateway, no NAT gateway, no public IP on launch.

    ``reserved_blocks``: per subnet, the CIDR blocks that hold the addresses this stack
    assigns itself (``addressing.reservation_blocks``); each becomes an explicit reservation."""
    child = pulumi.ResourceOptions(parent=parent)
    vpc = aws.ec2.Vpc(
        f"{name}-vpc",
        cidr_block=cidr,
        enable_dns_support=True,
        enable_dns_hostnames=True,
        tags={"Name": f"{label}-vpc"},
        opts=child,
    )
    subnets = [
        aws.ec2.Subnet(
            f"{name}-subnet-{az}",
            vpc_id=vpc.id,
            cidr_block=subnet_cidr,
            availability_zone=az,
            map_public_ip_on_launch=False,
            tags={"Name": f"{label}-{az}"},
            opts=child,
        )
        for az, subnet_cidr in zip(zones, subnet_ranges)
    ]
    reservations = [
        aws.ec2.SubnetCidrReservation(
            f"{name}-reserved-{az}-{block.replace('/', '-')}",
            subnet_id=subnet.id,
            cidr_block=block,
            reservation_type="explicit",
            description=f"{label} fixed addresses",
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[subnet]),
        )
        for az, subnet, blocks in zip(zones, subnets, reserved_blocks)
        for block in blocks
    ]
    route_table = aws.ec2.RouteTable(f"{name}-rt", vpc_id=vpc.id, tags={"Name": f"{label}-private"}, opts=child)
    for az, subnet in zip(zones, subnets):
        aws.ec2.RouteTableAssociation(f"{name}-rt-{az}", route_table_id=route_table.id, subnet_id=subnet.id, opts=child)
    return PrivateNetwork(vpc=vpc, subnets=subnets, route_table=route_table, reservations=reservations)


def ssm_endpoints(
    name: str,
    *,
    region: str,
    vpc_id: pulumi.Input[str],
    vpc_cidr: str,
    subnet_ids: Sequence[pulumi.Input[str]],
    parent: pulumi.Resource,
) -> None:
    """Interface endpoints that let the SSM agent manage instances with no
    route to the internet; HTTPS from the VPC only."""
    child = pulumi.ResourceOptions(parent=parent)
    sg = aws.ec2.SecurityGroup(
        f"{name}-ssm-sg",
        vpc_id=vpc_id,
        description="Systems Manager endpoints: HTTPS from this VPC only",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT, cidr_blocks=[vpc_cidr], description="HTTPS"
            )
        ],
        tags={"Name": f"{name}-ssm"},
        opts=child,
    )
    for service in SSM_SERVICES:
        aws.ec2.VpcEndpoint(
            f"{name}-{service}",
            vpc_id=vpc_id,
            service_name=f"com.amazonaws.{region}.{service}",
            vpc_endpoint_type="Interface",
            # Not IoT endpoints: these support private DNS, and the agent finds
            # them under the services' usual names inside the VPC.
            private_dns_enabled=True,
            subnet_ids=list(subnet_ids),
            security_group_ids=[sg.id],
            tags={"Name": f"{name}-{service}"},
            opts=child,
        )


def ssm_instance_profile(prefix: str, *, parent: pulumi.Resource) -> aws.iam.InstanceProfile:
    """An EC2 instance profile whose only permissions are Systems Manager's
    (Session Manager instead of SSH keys)."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{prefix}-role",
        assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
        opts=child,
    )
    ssm_core = aws.iam.RolePolicyAttachment(
        f"{prefix}-ssm",
        role=role.name,
        policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        opts=child,
    )
    # Instances launched with the profile use the role at once (the SSM agent registers
    # at boot): the profile waits for the role's policy, not only for the role.
    return aws.iam.InstanceProfile(
        f"{prefix}-profile", role=role.name, opts=pulumi.ResourceOptions(parent=parent, depends_on=[ssm_core])
    )
