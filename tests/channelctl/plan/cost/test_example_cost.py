"""The example channel's estimate (the plan of the committed stacks, rendered once and cached):
its lines against list-price arithmetic done here, its sources, its totals in the text and JSON
output, and what --compare prints of a change's cost."""

from __future__ import annotations

import copy
import json
import re

import pytest

from channelctl.cli import main
from channelctl.plan import command
from channelctl.plan.cost.diff import cost_change
from channelctl.plan.cost.estimate import estimate
from channelctl.plan.output import to_json, to_text
from tests.channelctl.plan.test_plan_support import example_plan

HOURS = 730  # the AWS Pricing Calculator's month
WITHIN = 0.25  # the tolerance


@pytest.fixture(scope="module")
def plan():
    return example_plan()


@pytest.fixture(scope="module")
def cost(plan):
    return to_json(plan)["cost"]


def _line(cost: dict, stack: str, resource_class: str) -> dict:
    (line,) = [line for line in cost["stacks"][stack]["lines"] if line["resourceClass"] == resource_class]
    return line


def test_iot_core_connectivity_of_the_example_fleet_is_list_price_arithmetic(cost):
    # Pulumi.iot.yaml: expectedDevices 150000, no usage key: all connected all month.
    # 150,000 x 730 h x 60 min = 6,570 million minutes x $0.08 per million (IoT Core pricing) = $525.60
    by_hand = 150_000 * HOURS * 60 / 1e6 * 0.08
    line = _line(cost, "iot", "IoT Core connectivity")
    assert abs(line["monthly"] - by_hand) <= WITHIN * by_hand
    assert line["source"] == "https://aws.amazon.com/iot-core/pricing/"


def test_the_iot_stacks_interface_endpoints_are_list_price_arithmetic(plan, cost):
    # The example's gatekeeper VPC: iot.data x2 (150,000 devices), iot.credentials, greengrass, s3
    # (enableGreengrassEndpoint) and the proxies' ssm, ssmmessages, ec2messages: 8 interface
    # endpoints, each in the 2 zones of availabilityZoneCount: 16 x 730 h x $0.01 = $116.80.
    by_hand = 8 * 2 * HOURS * 0.01
    interface = [r for r in plan.stacks["iot"].rendered.resources
                 if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and r.inputs.get("vpcEndpointType") == "Interface"]
    assert len(interface) == 8 and {len(r.inputs["subnetIds"]) for r in interface} == {2}
    line = _line(cost, "iot", "interface endpoints")
    assert abs(line["monthly"] - by_hand) <= WITHIN * by_hand
    assert line["priceRegion"] == "us-west-2"  # the table has Oregon's endpoint price


def test_doubling_the_devices_raises_the_total(plan):
    before = estimate(plan.stacks).monthly
    stacks = copy.deepcopy(plan.stacks)
    stacks["iot"].config["expectedDevices"] = 300_000
    doubled = estimate(stacks)
    assert doubled.monthly > before
    assert doubled.accounts()["111111111111"] > estimate(plan.stacks).accounts()["111111111111"]  # TGW, DX, DNS
    halved = copy.deepcopy(plan.stacks)
    halved["iot"].config["usage"] = {"connectedDevices": 75_000}
    assert estimate(halved).monthly < before


def test_every_line_names_a_source_and_a_date(cost):
    lines = [line for stack in cost["stacks"].values() for line in stack["lines"]]
    assert len(lines) > 30
    for line in lines:
        assert line["source"].startswith("https://aws.amazon.com/"), line
        assert line["priceRead"] and line["unit"] and line["quantity"] >= 0
    classes = {line["resourceClass"] for line in lines}
    assert {"interface endpoints", "Network Load Balancer", "NLB capacity units", "Transit Gateway attachments",
            "Transit Gateway data", "Route 53 Resolver endpoint", "Route 53 Resolver queries", "private hosted zones",
            "Direct Connect data out", "EC2 proxies", "EC2 application host", "Lambda requests", "Lambda duration",
            "DynamoDB reads", "KMS keys", "KMS requests", "CloudWatch Logs", "VPC flow logs", "CloudWatch alarms",
            "CloudWatch dashboards", "SNS notifications", "IoT Core connectivity", "IoT Core messaging",
            "IoT Core rules"} <= classes


def test_the_totals_add_up(cost):
    assert cost["monthly"] == pytest.approx(sum(cost["accounts"].values()), abs=0.02)
    for stack in cost["stacks"].values():
        assert stack["monthly"] == pytest.approx(sum(line["monthly"] for line in stack["lines"]), abs=0.01 * len(stack["lines"]))
    assert set(cost["accounts"]) == {"111111111111", "222222222222", "333333333333"}
    assert any("free tier" in limit for limit in cost["limits"]) and any("tax" in limit for limit in cost["limits"])


def test_the_text_shows_each_accounts_total_and_the_largest_lines(plan, cost):
    text = to_text(plan)
    section = text.split("Monthly cost estimate", 1)[1].split("\nChecks:", 1)[0]
    for account, total in cost["accounts"].items():
        assert f"account {account} (" in section and f"${total:,.2f} a month" in section
    assert f"channel: ${cost['monthly']:,.2f} a month" in section
    largest = max((line for s in cost["stacks"].values() for line in s["lines"]), key=lambda line: line["monthly"])
    assert f"{largest['resourceClass']} ${largest['monthly']:,.2f}" in section
    assert all(len(line) <= 100 for line in section.splitlines())


def test_compare_prints_the_monthly_difference_per_account_and_in_total(plan, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(command, "build_plan", lambda directory, stacks=None, facts_dir=None, read_facts=True: plan)
    old = to_json(plan)
    old["cost"]["accounts"]["222222222222"] -= 100.0
    old["cost"]["monthly"] -= 100.0
    old_file = tmp_path / "old.json"
    old_file.write_text(json.dumps(old, default=str))
    main(["plan", "--compare", str(old_file)])
    out = capsys.readouterr().out
    assert "Cost of this change: +$100.00 a month" in out
    assert "account 222222222222: +$100.00 a month" in out and "account 111111111111: +$0.00 a month" in out
    main(["plan", "--compare", str(old_file), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["cost"]["monthlyDifference"] == pytest.approx(100.0)
    assert data["cost"]["accounts"]["222222222222"]["monthlyDifference"] == pytest.approx(100.0)


def test_an_old_plan_without_an_estimate_says_so(plan):
    change = cost_change({"stacks": []}, estimate(plan.stacks))
    assert change.difference is None and "has no cost estimate" in change.text()
    assert change.to_json()["monthlyDifference"] is None


def test_the_docs_show_this_estimate(cost):
    """docs/costs.md and the README show the example's totals to the dollar; they must stay within 2%
    of what the plan estimates (other work moves the cents: an alarm more, a bigger proxy)."""
    from tests.docs import README, read_doc

    def near(shown: str, actual: float) -> bool:
        return abs(float(shown.replace(",", "")) - actual) <= 0.02 * actual

    page = read_doc("docs/costs.md")
    table = page.split("## The example's estimate", 1)[1].split("The largest lines", 1)[0]
    readme = " ".join(read_doc(README).split())
    for stack, actual in cost["stacks"].items():
        shown = re.search(rf"\| {actual['accountId']} \| {stack} \| \$([\d,]+) \|", table).group(1)
        assert near(shown, actual["monthly"]), (stack, shown)
        assert near(re.search(rf"{stack} \$([\d,]+)", readme).group(1), actual["monthly"]), stack
    assert near(re.search(r"\*\*channel\*\* \| \*\*\$([\d,]+)\*\*", table).group(1), cost["monthly"])
    assert near(re.search(r"come to about \$([\d,]+) a month", readme).group(1), cost["monthly"])


def test_the_docs_say_how_each_usage_figure_moves_the_estimate(plan):
    """Each row of docs/costs.md's usage table, recomputed: the change it shows within 2% (or $2)."""
    from tests.docs import read_doc

    section = read_doc("docs/costs.md").split("## Usage figures", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \((\w+)\) \| [^|]+ \| ([\d. /]+) \| ([-+$\d,. /]+) \|$", section, re.M)
    assert len(rows) == 12
    base = estimate(plan.stacks).monthly
    for key, stack, values, changes in rows:
        for value, shown in zip(values.split(" / "), changes.split(" / "), strict=True):
            stacks = copy.deepcopy(plan.stacks)
            stacks[stack].config.setdefault("usage", {})[key] = float(value)
            delta = estimate(stacks).monthly - base
            expected = float(shown.replace("$", "").replace(",", ""))
            assert abs(delta - expected) <= max(2.0, 0.02 * abs(delta)), (key, value, delta, shown)


def test_the_docs_say_what_a_longer_policy_refresh_saves(plan):
    from tests.docs import read_doc

    page = " ".join(read_doc("docs/costs.md").split())
    shown = float(re.search(r"3,600 s instead of 900 s saves about \$([\d,]+) a month", page).group(1).replace(",", ""))
    stacks = copy.deepcopy(plan.stacks)
    stacks["iot"].config.setdefault("authorizer", {})["refreshAfterSeconds"] = 3600
    saved = estimate(plan.stacks).monthly - estimate(stacks).monthly
    assert abs(saved - shown) <= 0.02 * saved, (saved, shown)


def test_the_docs_say_what_a_whole_migrating_fleet_writes(plan):
    from tests.docs import read_doc

    page = " ".join(read_doc("docs/costs.md").split())
    shown = float(re.search(r"about \$([\d,]+) a month if all 150,000 example devices were migrating", page)
                  .group(1).replace(",", ""))
    stacks = copy.deepcopy(plan.stacks)
    stacks["iot"].config["fleetProvisioning"] = {"enabled": True, "migratingFamilies": ["meters"]}
    (writes,) = [line for line in estimate(stacks).stacks["iot"].lines if line.resource_class == "DynamoDB writes"]
    assert abs(writes.monthly - shown) <= 0.02 * writes.monthly, (writes.monthly, shown)


def test_the_readme_says_what_doubling_the_devices_and_the_messages_adds(plan):
    from tests.docs import README, read_doc

    readme = " ".join(read_doc(README).split())
    base = estimate(plan.stacks).monthly
    for phrase, key, value in (("doubling the connected devices adds about", "connectedDevices", 300_000),
                               ("a second message per device a minute about", "messagesPerDevicePerMinute", 2)):
        shown = float(re.search(rf"{phrase} \$([\d,]+)", readme).group(1).replace(",", ""))
        stacks = copy.deepcopy(plan.stacks)
        stacks["iot"].config.setdefault("usage", {})[key] = value
        delta = estimate(stacks).monthly - base
        assert abs(delta - shown) <= 0.02 * delta, (key, delta, shown)


def test_a_price_the_table_lacks_stops_the_plan_as_bad_input(plan, monkeypatch, capsys):
    broken = copy.deepcopy(plan)
    (app,) = [r for r in broken.stacks["consumer"].rendered.resources if r.type == "aws:ec2/instance:Instance"]
    app.inputs["instanceType"] = "x9.huge"
    monkeypatch.setattr(command, "build_plan", lambda directory, stacks=None, facts_dir=None, read_facts=True: broken)
    assert main(["plan"]) == 2
    assert "no price for instance type x9.huge (consumer-app) in the price table — add ec2.x9.huge" in capsys.readouterr().err
    monkeypatch.setattr(command, "build_plan", lambda directory, stacks=None, facts_dir=None, read_facts=True: plan)
    assert main(["plan"]) != 2 and "Monthly cost estimate" in capsys.readouterr().out
