"""The committed facts files stand for the example stacks' accounts: they load, they are stamped with
each stack's account and Region, and their zones agree with how the plan's mock renderer maps zone
names to IDs per account (so the plan, once it reads them, renders the example as it does today)."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelctl.accounts import discover as dc
from channelctl.accounts.facts import load_facts
from channelctl.accounts.reads import quotas_for
from channelctl.accounts.trails import describe as describe_trails
from channelctl.plan.render import AWS_SERVICE_ZONE_NUMBERS, zone_id_of, zone_id_prefix
from channelctl.project import load_project

ROOT = Path(__file__).resolve().parents[3]
STACKS = ("network", "iot", "consumer")


@pytest.fixture(scope="module")
def project():
    return load_project(ROOT, list(STACKS))


@pytest.mark.parametrize("stack", STACKS)
def test_example_facts_stand_for_the_example_accounts(project, stack):
    facts = load_facts(ROOT / "facts" / f"{stack}.json")
    config = dc.stack_config(project.stacks[stack])
    account, region = config.common.account_id, config.common.region
    assert (facts.stack, facts.account, facts.region) == (stack, account, region)
    zones = facts.value("availabilityZones")
    assert [z["name"] for z in zones] == [f"{region}{c}" for c in "abcd"]
    assert all(z["id"] == zone_id_of(account, region, z["name"]) for z in zones), zones
    assert facts.value("roles") == dict.fromkeys(dc.role_arns(config), True)
    quotas = facts.value("quotas")
    assert list(quotas) == [q.key for q in quotas_for(config.common.role)]
    assert all(q.get("applied") is False for q in quotas.values() if "unknown" not in q)


def test_iot_services_are_offered_where_the_renderer_offers_them(project):
    facts = load_facts(ROOT / "facts" / "iot.json")
    config = dc.stack_config(project.stacks["iot"])
    account, region = config.common.account_id, config.common.region
    offered = {f"{zone_id_prefix(region)}-az{n}" for n in AWS_SERVICE_ZONE_NUMBERS}
    services = facts.value("serviceZones")
    assert list(services) == dc.endpoint_services(config, None)
    for zones in services.values():
        assert {zone_id_of(account, region, z) for z in zones} == offered
    (certificate,) = facts.value("certificates").values()
    assert certificate["status"] == "ISSUED" and config.custom_domain in certificate["names"]
    assert list(facts.value("logGroups")) == dc.log_group_names(config)
    # The iot account has a trail the credentials key's change alarm can rely on; only the iot stack reads trails.
    (trail,), others = describe_trails(facts.value("managementTrails"))
    assert trail and others == {}
    assert all(load_facts(ROOT / "facts" / f"{s}.json").get("managementTrails") is None for s in ("network", "consumer"))


def test_the_consumer_zones_are_where_the_iot_stack_offers_its_endpoint_service(project):
    # The gatekeeper's subnets are in its availabilityZones, which offer iot.data; the consumer names them its own way.
    iot = dc.stack_config(project.stacks["iot"])
    consumer = dc.stack_config(project.stacks["consumer"])
    iot_zones = list(iot.availability_zones)
    assert set(iot_zones) <= set(load_facts(ROOT / "facts" / "iot.json").value("serviceZones")[
        f"com.amazonaws.{iot.common.region}.iot.data"])
    ids = {zone_id_of(iot.common.account_id, iot.common.region, z) for z in iot_zones}
    consumer_zones = load_facts(ROOT / "facts" / "consumer.json").value("availabilityZones")
    assert sorted(z["name"] for z in consumer_zones if z["id"] in ids) == sorted(consumer.availability_zones)
