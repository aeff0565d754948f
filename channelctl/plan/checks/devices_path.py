"""``devices-path``: every on-premises range reaches every endpoint devices use, and back."""

from __future__ import annotations

from channelctl.plan.checks.model import (
    CREDENTIALS_PORTS,
    DATA_PORTS,
    DEVICES_PATH,
    GREENGRASS_DATA_PLANE_PORT,
    GREENGRASS_PORTS,
    S3_PORTS,
    NLB_MODES,
    T_LB,
    Channel,
    CheckResult,
    Findings,
    Res,
    as_int,
    core,
    device_access_mode,
    device_access_nlbs,
    endpoint_ips,
    endpoint_kind,
    greengrass_enabled,
    is_interface,
    listeners_of,
    nlb_ips,
)
from channelctl.plan.checks.paths import (
    listener_path,
    on_prem_link,
    round_trip,
)
from channelctl.plan.checks.sources import service_zones_line, zones_line


def as_zone_names(value: object) -> list[str]:
    return [str(z) for z in value] if isinstance(value, (list, tuple)) else []


def check_devices_path(ch: Channel) -> CheckResult:
    """On-premises -> DX -> TGW -> gatekeeper subnets (every endpoint IP) and back; device ports admitted."""
    f = Findings()
    c = core(ch)
    for message in c.missing:
        f.bad(message)
    link = on_prem_link(ch, c, f)
    if link is None or c.gatekeeper_vpc is None or c.iot is None:
        return f.result(DEVICES_PATH, "")
    f.involve(c.gatekeeper_vpc.label)
    # The zones the paths run through, as each account has them.
    if c.network is not None:
        f.source(zones_line(c.network, sorted(as_zone_names(c.network.config.get("availabilityZones")))))
    f.source(service_zones_line(c.iot, f"com.amazonaws.{c.iot.region}.iot.data"))
    targets: list[tuple[Res, str, tuple[int, ...]]] = []
    greengrass = greengrass_enabled(c.iot)
    data_ports = DATA_PORTS + ((GREENGRASS_DATA_PLANE_PORT,) if greengrass else ())
    kinds = (("data", data_ports), ("credentials", CREDENTIALS_PORTS), ("greengrass", GREENGRASS_PORTS),
             ("s3", S3_PORTS))
    for kind, ports in kinds:
        # An S3 gateway endpoint is a route inside its VPC: devices cannot use it.
        endpoints = [e for e in ch.endpoints(c.iot, kind) if kind != "s3" or is_interface(e)]
        if greengrass and kind in ("credentials", "s3") and not endpoints:
            f.bad(f"enableGreengrassEndpoint: Greengrass core devices need an {kind} interface endpoint (AWS IoT "
                  f"Greengrass guide, core device in VPC), and stack {c.iot.name} has none in {c.gatekeeper_vpc.label}",
                  c.gatekeeper_vpc.label)
        for endpoint in endpoints:
            targets.append((endpoint, f"{endpoint_kind(endpoint.get('serviceName'))} endpoint {endpoint.r.name}", ports))
    mode, family_ports = device_access_mode(c.iot)
    access_nlbs = device_access_nlbs(ch, c.iot, family_ports) if mode in NLB_MODES else []
    if mode in NLB_MODES and not access_nlbs:
        f.bad(f"deviceAccess mode {mode}: no NLB in stack {c.iot.name} listens on the family ports "
              f"{', '.join(map(str, family_ports)) or '(none configured)'}")
    for nlb in access_nlbs:
        targets.append((nlb, f"device-access NLB {nlb.r.name}", tuple(family_ports)))
    reached = 0
    for res, what, ports in targets:
        f.involve(res.label)
        ips = nlb_ips(res) if res.type == T_LB else endpoint_ips(res)
        if not ips:
            f.bad(f"{what} has no fixed IP: devices' path cannot be checked", res.label)
        groups = res.get("securityGroups") if res.type == T_LB else res.get("securityGroupIds")
        for on_prem in c.on_prem:
            for ip in ips:
                reached += round_trip(ch, c, link, f, on_prem=on_prem, ip=ip, vpc=c.gatekeeper_vpc, what=what)
            for port in ports:
                rule = ch.admits(groups or [], "ingress", "tcp", port, on_prem)
                if rule is None:
                    f.bad(f"{what}: no security group rule admits tcp {port} from {on_prem}", res.label,
                          *(ch.by_id(g).label for g in groups or [] if ch.by_id(g)))
                else:
                    f.ok(f"{what}: tcp {port} from {on_prem} admitted by {rule.label}", rule.label)
    for nlb in access_nlbs:
        for listener in listeners_of(ch, nlb):
            if as_int(listener.get("port")) not in family_ports:
                continue
            got = listener_path(ch, c, nlb, listener, f, clients=c.on_prem, privatelink=False)
            if not got:
                f.bad(f"device-access listener {listener.label} reaches no iot.data endpoint IP", listener.label)
            else:
                f.ok(f"device-access listener {listener.label} reaches iot.data endpoint IPs {', '.join(sorted(got))}")
    summary = (f"on-premises {', '.join(c.on_prem)} reaches {reached} endpoint/NLB addresses in "
               f"{c.gatekeeper_vpc.label} through Direct Connect and the Transit Gateway and back; "
               "device ports admitted")
    return f.result(DEVICES_PATH, summary)
