"""The committed price table: young enough, covering the Regions the example stacks use, every price
sourced and dated; and the rule that says so, seen failing on broken copies of it."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from channelctl.plan.cost.prices import (
    MAX_TABLE_AGE_DAYS,
    PRICE_KEYS,
    TABLE_PATH,
    PriceTableError,
    load_table,
    table_problems,
)

ROOT = Path(__file__).resolve().parents[4]


def _example_regions() -> set[str]:
    regions = set()
    for path in ROOT.glob("Pulumi.*.yaml"):
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        regions |= {v for k, v in config.items() if k.endswith(":region")}
    return regions


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    return path


def test_the_committed_table_is_young_and_covers_the_example_regions():
    regions = _example_regions()
    assert regions == {"us-west-2"}  # what the stacks say; the test below fails for any Region they add
    assert table_problems(load_table(), dt.date.today(), regions) == []


def test_a_table_older_than_the_stated_age_is_refused():
    table = load_table()
    later = table.read_at + dt.timedelta(days=MAX_TABLE_AGE_DAYS + 1)
    (problem,) = table_problems(table, later, set())
    assert f"older than {MAX_TABLE_AGE_DAYS} days" in problem and "channelctl prices refresh" in problem
    assert table_problems(table, table.read_at + dt.timedelta(days=MAX_TABLE_AGE_DAYS), set()) == []


def test_a_region_the_stacks_use_and_the_table_lacks_is_refused():
    (problem,) = table_problems(load_table(), load_table().read_at, {"eu-central-1"})
    assert "no prices for eu-central-1" in problem and "--region eu-central-1" in problem


def test_a_table_lacking_a_price_the_estimate_uses_or_its_source_is_refused(tmp_path):
    data = json.loads(TABLE_PATH.read_text())
    broken = copy.deepcopy(data)
    del broken["regions"]["us-east-1"]["iot.messages"]
    (problem,) = table_problems(load_table(_write(tmp_path, broken)), load_table().read_at, set())
    assert "us-east-1 lacks iot.messages" in problem
    unsourced = copy.deepcopy(data)
    unsourced["regions"]["us-west-2"]["vpce.dataGb"]["source"] = "a blog"
    (problem,) = table_problems(load_table(_write(tmp_path, unsourced)), load_table().read_at, set())
    assert "us-west-2 vpce.dataGb names no AWS pricing page" in problem


def test_every_price_names_its_page_the_day_it_was_read_and_where_it_was_seen():
    table = load_table()
    for prices in table.regions.values():
        for price in prices.values():
            assert price.source.startswith("https://aws.amazon.com/"), price.key
            assert dt.date.fromisoformat(price.read) <= dt.date.today()
            assert price.seen_in and price.verified in {"aws-page", "secondary", "unconfirmed"}, price.key
    assert set(PRICE_KEYS) <= set(table.regions[table.reference_region])
    # Honest about how it was made: transcribed, not a refresh run.
    assert "transcribed by hand" in table.method and "not written by a `channelctl prices refresh` run" in table.method


def test_tiers_step_down_with_volume():
    price = load_table().price("us-east-1", "vpce.dataGb")  # $0.01 first 1 PB, $0.006 next 4 PB, $0.004 after
    assert price.cost(1_000) == pytest.approx(10.0)
    assert price.cost(2_000_000) == pytest.approx(1_000_000 * 0.01 + 1_000_000 * 0.006)
    assert price.cost(6_000_000) == pytest.approx(1_000_000 * 0.01 + 4_000_000 * 0.006 + 1_000_000 * 0.004)


def test_a_file_that_is_not_a_table_names_itself(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"readAt": "yesterday"}')
    with pytest.raises(PriceTableError, match=r"prices.json: not a price table .*channelctl prices refresh"):
        load_table(path)
