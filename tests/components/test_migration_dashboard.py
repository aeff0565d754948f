"""The fleet dashboard shows the migration counts `channelctl devices migration --publish-metrics` puts."""

from __future__ import annotations

import json

from channelctl.devices.migration import METRIC_NAME, METRIC_NAMESPACE, STATES, metric_data
from components.fleet_monitoring import CHANNEL_NAMESPACE, MIGRATION_METRIC, dashboard_body


def search_expression() -> str:
    body = json.loads(dashboard_body("eu-central-1", "lb", ["vpce-1"], "vpc-1", None))
    (widget,) = [w for w in body["widgets"] if w["properties"]["title"].startswith("Migration to certificates")]
    (metric,) = widget["properties"]["metrics"]
    return metric[0]["expression"]


def test_the_widget_searches_for_the_metric_the_command_publishes():
    expression = search_expression()
    assert (METRIC_NAMESPACE, METRIC_NAME) == (CHANNEL_NAMESPACE, MIGRATION_METRIC)
    datum = metric_data({"meters": dict.fromkeys(STATES, 3)})[0]
    dimensions = ",".join(d["Name"] for d in datum["Dimensions"])
    assert f"{{{METRIC_NAMESPACE},{dimensions}}}" in expression and f'MetricName="{datum["MetricName"]}"' in expression


def test_a_metric_under_another_name_would_not_be_found():
    expression = search_expression()
    assert 'MetricName="MigrationDevice"' not in expression and "{PrivateMqttChannel,Family}" not in expression
