"""A session factory for ``channelctl discover`` in tests: every client talks to moto's server on
127.0.0.1, except the services given stub builders, whose clients answer from botocore's Stubber
(for the APIs moto lacks); every operation any client sends is recorded as its IAM action."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.stub import Stubber

REGION = "us-west-2"
READ_PREFIXES = ("Describe", "Get", "List")
# The two STS calls discover makes besides reads: who am I, and become the stack's role.
STS_CALLS = {"sts:AssumeRole", "sts:GetCallerIdentity"}


class Aws:
    """``discover``'s session factory: ``Aws(url, stubs={"ram": build})(credentials)`` is a session."""

    def __init__(self, url: str, stubs: Mapping[str, Callable[[Stubber], None]] | None = None):
        self.url = url
        self.stubs = dict(stubs or {})
        self.actions: list[str] = []
        self.stubbers: list[Stubber] = []

    def __call__(self, credentials: Mapping[str, Any] | None = None) -> "_Session":
        return _Session(self, credentials)

    def record(self, model: Any, **_: Any) -> None:
        self.actions.append(f"{model.service_model.signing_name}:{model.name}")

    def assert_read_only(self) -> None:
        written = [a for a in self.actions if a not in STS_CALLS and not a.split(":")[1].startswith(READ_PREFIXES)]
        assert not written, written

    def assert_stubs_used(self) -> None:
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


@functools.cache
def _shared_session() -> boto3.Session:
    """One session for every test client: botocore loads each service's model once, not per session."""
    return boto3.Session(region_name=REGION)


class _Session:
    def __init__(self, aws: Aws, credentials: Mapping[str, Any] | None):
        self.aws = aws
        self.keys = {} if credentials is None else {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }

    def client(self, service_name: str, *, region_name: str | None = None, config: Config | None = None) -> Any:
        # One attempt: moto does not throttle, and a stubbed error is not retried by botocore anyway.
        config = (config or Config()).merge(Config(retries={"mode": "standard", "max_attempts": 1}))
        client = _shared_session().client(service_name, region_name=region_name, config=config,
                                          endpoint_url=self.aws.url, **self.keys)
        # First, so a Stubber's answer (also a before-call handler) does not hide the call.
        client.meta.events.register_first("before-call.*.*", self.aws.record)
        build = self.aws.stubs.get(service_name)
        if build is not None:
            stubber = Stubber(client)
            build(stubber)
            stubber.activate()
            self.aws.stubbers.append(stubber)
        return client


# --------------------------------------------------------------------------- #
# Stub builders, responses shaped as botocore's output shapes (the AWS API reference)
# --------------------------------------------------------------------------- #


def quota(service: str, code: str, name: str, value: float) -> dict[str, Any]:
    return {"Quota": {"ServiceCode": service, "ServiceName": service, "QuotaArn": f"arn:aws:servicequotas:{REGION}::{service}/{code}",
                      "QuotaCode": code, "QuotaName": name, "Value": value, "Unit": "None", "Adjustable": True,
                      "GlobalQuota": False}}


def stub_quotas(answers: list[tuple[str, str, str, float | None, float | None]]) -> Callable[[Stubber], None]:
    """Per quota (service, code, name, applied value or None, default or None), in discover's order."""

    def build(stubber: Stubber) -> None:
        for service, code, name, applied, default in answers:
            params = {"ServiceCode": service, "QuotaCode": code}
            for operation, value in (("get_service_quota", applied), ("get_aws_default_service_quota", default)):
                if value is None:
                    stubber.add_client_error(operation, "NoSuchResourceException", "The request failed because the "
                                             "specified service quota does not exist.", expected_params=params)
                else:
                    stubber.add_response(operation, quota(service, code, name, value), params)
    return build


def stub_direct_connect(connection_id: str, state: str) -> Callable[[Stubber], None]:
    def build(stubber: Stubber) -> None:
        stubber.add_response("describe_connections", {"connections": [{
            "ownerAccount": "111111111111", "connectionId": connection_id, "connectionName": "plant-dx",
            "connectionState": state, "region": REGION, "location": "EqSE2", "bandwidth": "10Gbps", "vlan": 210}]},
            {"connectionId": connection_id})
        stubber.add_response("describe_direct_connect_gateways", {"directConnectGateways": [{
            "directConnectGatewayId": "5f294f92-bafb-4011-916d-9b0bEXAMPLE", "directConnectGatewayName": "other",
            "amazonSideAsn": 64600, "ownerAccount": "111111111111", "directConnectGatewayState": "available"}]}, {})
    return build


def stub_invitations(invitations: list[tuple[str, str]]) -> Callable[[Stubber], None]:
    """(invitation id, status) per invitation from the network account."""

    def build(stubber: Stubber) -> None:
        stubber.add_response("get_resource_share_invitations", {"resourceShareInvitations": [{
            "resourceShareInvitationArn": f"arn:aws:ram:{REGION}:111111111111:resource-share-invitation/{i}",
            "resourceShareName": "channel-tgw", "resourceShareArn": f"arn:aws:ram:{REGION}:111111111111:resource-share/s-{i}",
            "senderAccountId": "111111111111", "receiverAccountId": "222222222222", "status": status,
        } for i, status in invitations]}, {})
    return build


def stub_error(operation: str, code: str, message: str) -> Callable[[Stubber], None]:
    def build(stubber: Stubber) -> None:
        stubber.add_client_error(operation, code, message, http_status_code=400)
    return build


def stub_iot_logging(answer: dict[str, Any] | None) -> Callable[[Stubber], None]:
    def build(stubber: Stubber) -> None:
        if answer is None:
            stubber.add_client_error("get_v2_logging_options", "NotConfiguredException", "Logging options not configured")
        else:
            stubber.add_response("get_v2_logging_options", answer, {})
    return build
