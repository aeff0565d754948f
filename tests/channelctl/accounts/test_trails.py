"""Which CloudTrail trails count for the credentials key's change alarm (``channelctl.accounts.trails``):
each form of event selector the CloudTrail API reference describes, one that records KMS's write
management events and one that leaves them out; the Region a trail covers; a trail that cannot be read."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from channelctl.accounts import trails as tr

REGION = "us-west-2"
ARN = "arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def management(*more):
    return {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, *more]}


@pytest.mark.parametrize("selector, gap", [
    ({"ReadWriteType": "All", "IncludeManagementEvents": True}, None),
    ({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "ExcludeManagementEventSources": []}, None),
    ({}, None),  # AWS's defaults: All, management events included
    ({"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}, "logs ReadOnly management events"),
    ({"ReadWriteType": "All", "IncludeManagementEvents": False}, "excludes management events"),
    ({"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}, "excludes kms.amazonaws.com"),
    ({"ReadWriteType": "All", "ExcludeManagementEventSources": ["rdsdata.amazonaws.com"]}, None),
], ids=["all", "write-only", "defaults", "read-only", "no-management", "kms-excluded", "rds-data-excluded"])
def test_basic_selectors(selector, gap):
    found = tr.basic_selector_gap(selector)
    assert found is None if gap is None else gap in found


@pytest.mark.parametrize("selector, gap", [
    (management(), None),
    (management({"Field": "readOnly", "Equals": ["false"]}), None),
    (management({"Field": "readOnly", "Equals": ["true"]}), "leaves out readOnly false"),
    (management({"Field": "eventSource", "NotEquals": ["rdsdata.amazonaws.com"]}), None),
    (management({"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}), "leaves out eventSource kms.amazonaws.com"),
    (management({"Field": "eventSource", "StartsWith": ["kms."]}), None),
    (management({"Field": "eventSource", "Equals": ["iam.amazonaws.com"]}), "leaves out eventSource kms.amazonaws.com"),
    (management({"Field": "eventName", "Equals": list(tr.KEY_CHANGE_EVENTS)}), None),
    (management({"Field": "eventName", "NotStartsWith": ["Put"]}), "leaves out eventName PutKeyPolicy"),
    (management({"Field": "userIdentity.arn", "NotEquals": ["arn:aws:iam::222222222222:role/x"]}),
     "filters on userIdentity.arn"),
    ({"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                         {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}, "does not select eventCategory"),
], ids=["management", "writes", "reads-only", "rds-data-out", "kms-out", "kms-prefix", "iam-only", "the-alarms-calls",
        "put-calls-out", "unknown-field", "data-events"])
def test_advanced_selectors(selector, gap):
    found = tr.advanced_selector_gap(selector)
    assert found is None if gap is None else gap in found


def test_any_selector_that_records_the_events_is_enough_and_none_is_the_default():
    reads = {"ReadWriteType": "ReadOnly"}
    assert tr.selectors_gap({"EventSelectors": [reads]}) is not None
    assert tr.selectors_gap({"EventSelectors": [reads, {"ReadWriteType": "WriteOnly"}]}) is None
    data = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}
    assert tr.selectors_gap({"AdvancedEventSelectors": [data]}) is not None
    assert tr.selectors_gap({"AdvancedEventSelectors": [data, management()]}) is None
    assert tr.selectors_gap({"EventSelectors": [], "AdvancedEventSelectors": []}) is None


@pytest.mark.parametrize("trail, counts", [
    ({"HomeRegion": REGION, "IsMultiRegionTrail": False}, True),
    ({"HomeRegion": "eu-west-1", "IsMultiRegionTrail": True}, True),
    ({"HomeRegion": "eu-west-1", "IsMultiRegionTrail": False}, False),
])
def test_a_trail_covers_its_home_region_or_every_region(trail, counts):
    assert (tr.region_gap(trail, REGION) is None) == counts


class _CloudTrail:
    """A CloudTrail client answering from a table of trails; records which Region each call went to."""

    def __init__(self, trails, region, calls, denied=()):
        self.trails, self.region, self.calls, self.denied = trails, region, calls, denied

    def describe_trails(self, includeShadowTrails):
        assert includeShadowTrails is True
        return {"trailList": [t["description"] for t in self.trails.values()]}

    def _trail(self, operation, arn):
        self.calls.append((operation, self.region, arn))
        if arn in self.denied:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": f"not authorized on {arn}"}},
                              operation)
        return next(t for t in self.trails.values() if t["description"]["TrailARN"] == arn)

    def get_trail_status(self, Name):
        return {"IsLogging": self._trail("GetTrailStatus", Name)["logging"]}

    def get_event_selectors(self, TrailName):
        return self._trail("GetEventSelectors", TrailName)["selectors"]


def _trail(name, home=REGION, account="222222222222", multi=False, logging=True, selectors=None):
    return {"description": {"Name": name, "TrailARN": ARN.format(region=home, account=account, name=name),
                            "HomeRegion": home, "IsMultiRegionTrail": multi},
            "logging": logging, "selectors": selectors or {"EventSelectors": [{"ReadWriteType": "All"}]}}


def _read(table, denied=()):
    calls = []
    value = tr.management_trails(lambda service, region: _CloudTrail(table, region, calls, denied), REGION)
    return value, calls


def test_an_organization_trail_from_another_region_is_read_there_by_its_arn():
    org = _trail("org-trail", home="us-east-1", account="999999999999", multi=True)
    value, calls = _read({"org": org})
    assert value == {"trails": ["org-trail"], "others": {}}
    arn = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-trail"
    assert calls == [("GetTrailStatus", "us-east-1", arn), ("GetEventSelectors", "us-east-1", arn)]


def test_a_trail_that_cannot_be_read_is_named_beside_one_that_counts_and_alone_is_raised():
    org = _trail("org-trail", home="us-east-1", account="999999999999", multi=True)
    own = _trail("own")
    denied = (org["description"]["TrailARN"],)
    value, _ = _read({"org": org, "own": own}, denied)
    assert value["trails"] == ["own"]
    assert value["others"]["org-trail"].startswith("not read: AccessDeniedException: not authorized on")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        _read({"org": org}, denied)


def test_trails_that_do_not_count_are_listed_with_why():
    value, _ = _read({"a": _trail("stopped", logging=False),
                      "b": _trail("elsewhere", home="eu-west-1"),
                      "c": _trail("reads", selectors={"EventSelectors": [{"ReadWriteType": "ReadOnly"}]})})
    assert value["trails"] == []
    assert value["others"] == {
        "elsewhere": "it covers only eu-west-1, not us-west-2",
        "reads": "its event selector logs ReadOnly management events, not write events",
        "stopped": "it is not logging (StartLogging was never called or StopLogging was)",
    }
    assert tr.describe(value) == ([], value["others"])
    assert tr.describe({"trails": "x"}) is None and tr.describe(None) is None
