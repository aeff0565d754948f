"""The Mermaid flowchart is generated from the plan: well-formed, and it changes when the plan does."""

from __future__ import annotations

import re

import pytest

from channelctl.plan.diagram import render_mermaid
from tests.channelctl.plan.test_plan_support import example_plan, remove, resource, stacks_of

NODE = re.compile(r"^\s*(n_\w+)[\[\(\{]", re.MULTILINE)
EDGE = re.compile(r"^\s*(n_\w+) (==>|-\.->)(?:\|\"[^\"]*\"\|)? (n_\w+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def plan():
    return example_plan()


def _structure(text: str) -> tuple[set[str], list[tuple[str, str, str]]]:
    nodes = NODE.findall(text)
    assert len(nodes) == len(set(nodes)), "a node is declared twice"
    edges = EDGE.findall(text)
    return set(nodes), edges


def _well_formed(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    depth = 0
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("subgraph "):
            depth += 1
        elif stripped == "end":
            depth -= 1
            assert depth >= 0
        else:
            assert NODE.match(line) or EDGE.match(line), f"not a node or an edge: {line!r}"
        # Labels are quoted; a raw quote inside one would end it early.
        assert line.count('"') % 2 == 0, line
    assert depth == 0
    nodes, edges = _structure(text)
    for a, _, b in edges:
        assert a in nodes and b in nodes, (a, b)


def test_example_diagram(plan):
    text = render_mermaid(plan.stacks)
    _well_formed(text)
    for stack in plan.stacks.values():
        assert f'account {stack.account_id}: {stack.name} ({stack.role})' in text
    for vpc in ("10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"):
        assert vpc in text
    nodes, edges = _structure(text)
    pairs = {(a, b) for a, _, b in edges}
    # The device path: on-premises -> DX gateway -> TGW -> the iot.data endpoints -> IoT Core.
    assert ("n_onprem", "n_network_channel_dxgw") in pairs
    assert ("n_network_channel_dxgw", "n_network_channel_tgw") in pairs
    assert ("n_network_channel_tgw", "n_iot_gatekeeper_iot_data_0") in pairs
    assert ("n_iot_gatekeeper_iot_data_0", "n_iotcore") in pairs
    # The consumer path: application -> own endpoint -> endpoint service -> NLB -> iot.data.
    assert ("n_consumer_consumer_app", "n_consumer_consumer_endpoint") in pairs
    assert ("n_consumer_consumer_endpoint", "n_iot_gatekeeper_endpoint_service") in pairs
    assert ("n_iot_gatekeeper_endpoint_service", "n_iot_gatekeeper_nlb") in pairs
    assert ("n_iot_gatekeeper_nlb", "n_iot_gatekeeper_iot_data_1") in pairs
    # DNS: the Resolver answers from the zones associated with the device VPC.
    assert ("n_network_channel_resolver", "n_iot_gatekeeper_zone_data_zone") in pairs
    assert ("n_iot_gatekeeper_zone_data_zone", "n_iot_gatekeeper_iot_data_1") in pairs


def test_diagram_follows_the_plan(plan):
    """Arrows come from the rendered resources: remove a wire and its arrow goes."""
    stacks = stacks_of(plan)
    remove(stacks, "network", "channel-zone-a1b2c3d4e5f6g7-ats-iot-us-west-2-amazona")
    resource(stacks, "consumer", "consumer-endpoint").inputs["serviceName"] = "com.amazonaws.vpce.us-west-2.vpce-svc-0"
    text = render_mermaid(stacks)
    _well_formed(text)
    pairs = {(a, b) for a, _, b in _structure(text)[1]}
    assert ("n_network_channel_resolver", "n_iot_gatekeeper_zone_data_zone") not in pairs
    assert ("n_network_channel_resolver", "n_iot_gatekeeper_zone_credentials_zone") in pairs
    assert ("n_consumer_consumer_endpoint", "n_iot_gatekeeper_endpoint_service") not in pairs


def test_labels_are_escaped(plan):
    stacks = stacks_of(plan)
    resource(stacks, "iot", "gatekeeper-zone-data-zone").inputs["name"] = 'odd"name<x>.example.com'
    text = render_mermaid(stacks)
    _well_formed(text)
    assert "odd#quot;name#lt;x#gt;.example.com" in text
