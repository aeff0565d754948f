"""Every policy rule over every resource the example stacks declare."""

from policies.rules import evaluate
from tests.support import broken


def violations(stacks):
    return [(s.stack, r.name, v) for s in stacks for r in s.resources
            for v in evaluate(r.type, r.inputs, name=r.name)]


def test_example_stacks_pass_every_policy(chain):
    assert sum(len(s.resources) for s in chain.values()) > 200
    assert violations(chain.values()) == []


def test_a_widened_rule_in_an_example_stack_is_a_violation(chain):
    net = chain["network-1"]
    sg = net.named("channel-resolver-sg")
    wide = [dict(rule, cidrBlocks=["0.0.0.0/0"]) for rule in sg.inputs["ingress"]]
    found = violations([broken(net, "channel-resolver-sg", ingress=wide)])
    assert found and {name for _, name, _ in found} == {"channel-resolver-sg"}
    assert all("no-any-address-security-group-rules" in str(v) for _, _, v in found)


def test_an_example_resource_declared_through_another_provider_is_a_violation(chain):
    # The same inputs under a type the channel does not declare (its Cloud Control twin, another
    # provider's): the allow-list refuses the type whatever the inputs.
    sg = chain["network-1"].named("channel-resolver-sg")
    assert evaluate(sg.type, sg.inputs, name=sg.name) == []
    for twin in ("aws-native:ec2:SecurityGroup", "awsx:ec2:SecurityGroup"):
        assert {v.rule for v in evaluate(twin, sg.inputs, name=sg.name)} == {"allowed-types-only"}
