"""Whether the account has a CloudTrail trail that records the credentials key's changes, so that the
key change alarm (components/key_change_alarm.py) can fire: the ``managementTrails`` fact.

EventBridge receives "AWS API Call via CloudTrail" events only where "a CloudTrail trail with logging
enabled" exists (EventBridge user guide, eb-service-event-cloudtrail.html). The alarm's events are
KMS *write management* events (PutKeyPolicy, CreateGrant, ... with eventSource kms.amazonaws.com,
readOnly false), so a trail counts when, and only when, all of this holds:

- it covers this Region: a multi-Region trail, or one whose home Region is this one. DescribeTrails
  with ``includeShadowTrails`` (the default, true) returns the trails of this Region and the shadow
  trails here of multi-Region trails created elsewhere and of organization trails in member accounts
  (CloudTrail API reference, DescribeTrails, includeShadowTrails);
- it is logging: GetTrailStatus ``IsLogging``. The trail is named by its ARN, which a shadow trail and
  an organization trail read from a member account require (API reference, GetTrailStatus, Name);
- one of its event selectors records those events (a trail logs an event that matches any of its
  selectors; a trail has either basic or advanced selectors, never both — API reference, EventSelector,
  AdvancedEventSelector):

  - a basic selector (API reference, EventSelector): ``IncludeManagementEvents`` true (the default),
    ``ReadWriteType`` ``All`` (the default) or ``WriteOnly``, and ``kms.amazonaws.com`` not in
    ``ExcludeManagementEventSources`` (the list that can leave KMS's management events out);
  - an advanced selector (API reference, AdvancedFieldSelector): its field selectors are ANDed and
    each must admit the alarm's events — ``eventCategory`` Equals ``Management`` (required for
    management events), ``readOnly`` absent or admitting ``false``, ``eventSource`` absent or admitting
    ``kms.amazonaws.com`` (for trails AWS offers ``NotEquals kms.amazonaws.com`` to leave KMS out),
    ``eventName`` (event data stores only) absent or admitting every call the alarm watches. Any other
    field (``userIdentity.arn``, ``eventType``, ``resources.type``, ...) can leave some of those events out,
    so a selector that filters on it does not count: the list names what is known to be safe.

  Within one field selector, every operator present must admit the value (Equals/StartsWith/EndsWith:
  one of its values matches; NotEquals/NotStartsWith/NotEndsWith: none does). If AWS ORs the positive
  operators of one field instead, this reading counts fewer trails, never more.

  A GetEventSelectors answer with neither form is taken as AWS's documented default for a trail created
  without selectors: "all read and write management events" (API reference, EventSelector).

Whether EventBridge drops the events a trail's selectors leave out is not stated on the EventBridge
page; counting only trails whose selectors keep them is the reading that cannot over-promise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.key_change_alarm import KEY_CHANGE_EVENTS, KMS_EVENT_SOURCE

# Keys of the fact's value: the names of the trails that count, and why each other trail does not.
TRAILS = "trails"
OTHERS = "others"

MANAGEMENT = "Management"
# The alarm's events as CloudTrail's record fields hold them (KMS developer guide, ct-put-key-policy.html
# and the other ct-*.html examples: eventSource kms.amazonaws.com, readOnly false).
_EVENT = {"eventCategory": [MANAGEMENT], "eventSource": [KMS_EVENT_SOURCE], "readOnly": ["false"],
          "eventName": list(KEY_CHANGE_EVENTS)}
_POSITIVE = {"Equals": lambda v, x: v == x, "StartsWith": lambda v, x: v.startswith(x),
             "EndsWith": lambda v, x: v.endswith(x)}
_NEGATIVE = {"NotEquals": lambda v, x: v == x, "NotStartsWith": lambda v, x: v.startswith(x),
             "NotEndsWith": lambda v, x: v.endswith(x)}
_WRITES = ("All", "WriteOnly")


def basic_selector_gap(selector: Mapping[str, Any]) -> str | None:
    """None when a basic event selector records the alarm's events, else what leaves them out."""
    if selector.get("IncludeManagementEvents", True) is not True:
        return "its event selector excludes management events (IncludeManagementEvents false)"
    read_write = selector.get("ReadWriteType", "All")
    if read_write not in _WRITES:
        return f"its event selector logs {read_write} management events, not write events"
    if KMS_EVENT_SOURCE in (selector.get("ExcludeManagementEventSources") or []):
        return f"its event selector excludes {KMS_EVENT_SOURCE} (ExcludeManagementEventSources)"
    return None


def _admits(field_selector: Mapping[str, Any], value: str) -> bool:
    for operator, test in _POSITIVE.items():
        if operator in field_selector and not any(test(value, x) for x in field_selector[operator] or []):
            return False
    for operator, test in _NEGATIVE.items():
        if operator in field_selector and any(test(value, x) for x in field_selector[operator] or []):
            return False
    return True


def advanced_selector_gap(selector: Mapping[str, Any]) -> str | None:
    """None when an advanced event selector records the alarm's events, else what leaves them out."""
    name = f"advanced event selector {selector.get('Name')!r}" if selector.get("Name") else "an advanced event selector"
    fields = selector.get("FieldSelectors") or []
    if not any(fs.get("Field") == "eventCategory" and MANAGEMENT in (fs.get("Equals") or []) for fs in fields):
        return f"{name} does not select eventCategory {MANAGEMENT}"
    for fs in fields:
        field = fs.get("Field")
        if field not in _EVENT:
            return f"{name} filters on {field}, which can leave the key's change events out"
        left_out = [v for v in _EVENT[field] if not _admits(fs, v)]
        if left_out:
            return f"{name} leaves out {field} {', '.join(left_out)}"
    return None


def selectors_gap(answer: Mapping[str, Any]) -> str | None:
    """None when any selector of a GetEventSelectors answer records the alarm's events, else why not."""
    advanced = answer.get("AdvancedEventSelectors") or []
    basic = answer.get("EventSelectors") or []
    if not advanced and not basic:
        return None  # AWS's default for a trail created without selectors: all management events
    gaps = [advanced_selector_gap(s) for s in advanced] + [basic_selector_gap(s) for s in basic]
    return None if any(g is None for g in gaps) else "; ".join(dict.fromkeys(g for g in gaps if g))


def region_gap(trail: Mapping[str, Any], region: str) -> str | None:
    if trail.get("IsMultiRegionTrail") or trail.get("HomeRegion") == region:
        return None
    return f"it covers only {trail.get('HomeRegion')}, not {region}"


def management_trails(clients: Callable[..., Any], region: str) -> dict[str, Any]:
    """The ``managementTrails`` fact: ``{"trails": [names that count], "others": {name: why not}}``.

    ``clients(service, region)`` gives a client; each trail is asked in its home Region by its ARN.
    A trail that cannot be read is listed with why when another trail counts; when none counts, its
    error is raised (discover writes the fact as unknown with the reason: the answer is not known)."""
    found: list[str] = []
    others: dict[str, str] = {}
    failure: Exception | None = None
    listed = clients("cloudtrail", region).describe_trails(includeShadowTrails=True).get("trailList", [])
    for trail in sorted(listed, key=lambda t: str(t.get("Name"))):
        name, arn = str(trail.get("Name")), str(trail.get("TrailARN") or trail.get("Name"))
        gap = region_gap(trail, region)
        if gap is None:
            try:
                gap = _trail_gap(clients("cloudtrail", trail.get("HomeRegion") or region), arn)
            except Exception as exc:
                if getattr(exc, "response", None) is None:
                    raise  # not an answer of AWS (no connection, credentials): discover's to handle
                failure = failure or exc
                gap = f"not read: {_error_text(exc)}"
        if gap is None:
            found.append(name)
        else:
            others[name] = gap
    if not found and failure is not None:
        raise failure
    return {TRAILS: found, OTHERS: others}


def _trail_gap(client: Any, arn: str) -> str | None:
    if not client.get_trail_status(Name=arn).get("IsLogging"):
        return "it is not logging (StartLogging was never called or StopLogging was)"
    return selectors_gap(client.get_event_selectors(TrailName=arn))


def _error_text(exc: Exception) -> str:
    error = (getattr(exc, "response", None) or {}).get("Error", {})
    return " ".join(f"{error.get('Code', 'Error')}: {error.get('Message', '')}".split())


def describe(value: Any) -> tuple[list[str], dict[str, str]] | None:
    """(the trails that count, the others with why) of a known fact value; None when it is not one."""
    if not isinstance(value, Mapping) or not isinstance(value.get(TRAILS), list):
        return None
    others = value.get(OTHERS) if isinstance(value.get(OTHERS), Mapping) else {}
    return [str(t) for t in value[TRAILS]], {str(k): str(v) for k, v in others.items()}
