"""iot stack, device access: listeners, targets, fleet and DNS per mode."""

import base64
import math
import re

import pytest

from components.config import ConfigError, load_config
from components.device_access import refresh_rate
from components.proxy_refresh import RefreshPreferences, refresh_steps, step_problems
from tests.support import FQ, broken, example_config, open_rules, render

FAMILY_PORTS = [8080, 8081]
FLEET = {"aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate", "aws:iam/instanceProfile:InstanceProfile"}


def render_mode(chain, mode):
    cfg = example_config("iot")
    if mode == "direct":
        cfg["deviceAccess"] = {"mode": "direct"}
    else:
        cfg["deviceAccess"] = dict(cfg["deviceAccess"], mode=mode)
    return render("iot", cfg, {FQ("network"): chain["network-1"].exports})


@pytest.fixture(scope="module")
def modes():
    from tests.support import render_chain
    chain = render_chain()
    return {mode: render_mode(chain, mode) for mode in ("tls-proxy", "tcp-passthrough", "direct")}


def listeners(rendered):
    return {int(l.inputs["port"]): l for l in rendered.of_type("aws:lb/listener:Listener")}


def group_of(rendered, listener):
    arn = listener.inputs["defaultActions"][0]["targetGroupArn"]
    return next(g for g in rendered.of_type("aws:lb/targetGroup:TargetGroup") if g.state["arn"] == arn)


def custom_domain_ips(rendered):
    zone_id = rendered.exports["privateZoneIds"]["iot.plant.example.com"]
    return sorted(ip for r in rendered.of_type("aws:route53/record:Record") if r.inputs["zoneId"] == zone_id
                  for ip in r.inputs["records"])


def test_tls_proxy_terminates_on_the_family_ports_and_forwards_over_tls_to_the_fleet(modes):
    iot = modes["tls-proxy"]
    ls = listeners(iot)
    assert sorted(ls) == [443, 8080, 8081, 8883]
    for port in FAMILY_PORTS:
        listener = ls[port]
        assert listener.inputs["protocol"] == "TLS"
        assert listener.inputs["certificateArn"] == example_config("iot")["customDomainCertificateArn"]
        assert listener.inputs["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
        group = group_of(iot, listener)
        assert group.inputs["protocol"] == "TLS" and group.inputs["targetType"] == "instance"
        # The proxies' security group admits the NLB's own IPs only.
        assert group.inputs["preserveClientIp"] == "false"
        assert group.inputs["port"] == port
        assert group.inputs["healthCheck"]["protocol"] == "HTTP"
    (asg,) = iot.of_type("aws:autoscaling/group:Group")
    assert asg.inputs["minSize"] >= 2 and asg.inputs["healthCheckType"] == "EC2"
    assert len(asg.inputs["vpcZoneIdentifiers"]) >= 2
    assert sorted(asg.inputs["targetGroupArns"]) == sorted(group_of(iot, ls[p]).state["arn"] for p in FAMILY_PORTS)


def launch_template_problems(rendered):
    problems = []
    for lt in rendered.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        if lt.inputs["metadataOptions"]["httpTokens"] != "required":
            problems.append("IMDSv1")
        if any(n.get("associatePublicIpAddress") != "false" for n in lt.inputs["networkInterfaces"]):
            problems.append("public IP")
        if any(b["ebs"].get("encrypted") != "true" for b in lt.inputs["blockDeviceMappings"]):
            problems.append("unencrypted volume")
        if lt.inputs.get("keyName"):
            problems.append("SSH key")
        if not lt.inputs.get("iamInstanceProfile"):
            problems.append("no SSM instance profile")
    return problems


def test_proxy_instances_are_hardened_and_carry_the_generated_haproxy_config(modes):
    iot = modes["tls-proxy"]
    assert launch_template_problems(iot) == []
    (lt,) = iot.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    user_data = base64.b64decode(lt.inputs["userData"]).decode()
    assert "dnf install -y haproxy" in user_data
    for ip in iot.exports["dataEndpointIps"]:
        assert f"{ip}:443" in user_data
    assert "sni str(iot.plant.example.com)" in user_data and "alpn mqtt" in user_data
    assert "verify required" in user_data
    assert "BEGIN CERTIFICATE" in user_data  # the CA bundle travels with the config
    ssm = sorted(e.inputs["serviceName"].rsplit(".", 1)[1] for e in iot.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if e.inputs["serviceName"].rsplit(".", 1)[1] in ("ssm", "ssmmessages", "ec2messages"))
    assert ssm == ["ec2messages", "ssm", "ssmmessages"]


def test_proxy_group_names_a_template_version_and_stages_its_refresh(modes):
    # "$Latest" never changes, so no instance refresh would start for a new template.
    iot = modes["tls-proxy"]
    (lt,) = iot.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    (group,) = iot.of_type("aws:autoscaling/group:Group")
    assert group.inputs["launchTemplate"] == {"id": lt.id, "version": str(lt.state["latestVersion"])}
    refresh = group.inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    prefs = refresh["preferences"]
    # One instance at a time, launched first; a checkpoint after each of the 4 instances.
    assert (prefs["minHealthyPercentage"], prefs["maxHealthyPercentage"]) == (100, 100)
    assert prefs["checkpointPercentages"] == [25, 50, 75, 100] and prefs["skipMatching"] is True
    maxconn = int(re.search(r"^\s*maxconn\s+(\d+)", _user_data(lt), re.M).group(1))
    # The pause after each step: one instance's devices at the reconnect rate, the slowest of the
    # CONNECT quota (500/s), the example's authorizer and the proxies' handshakes.
    rate = refresh_rate(load_config(example_config("iot"), stack="iot"))
    assert rate <= 500 and int(prefs["checkpointDelay"]) == math.ceil(maxconn / rate)
    staged = RefreshPreferences(min_healthy=100, max_healthy=100, warmup_s=int(prefs["instanceWarmup"]),
                                checkpoints=tuple(prefs["checkpointPercentages"]),
                                checkpoint_delay_s=int(prefs["checkpointDelay"]))
    steps = refresh_steps(int(group.inputs["desiredCapacity"]), maxconn, 150_000, rate, staged)
    assert [s.instances for s in steps] == [1, 1, 1, 1] and step_problems(steps, rate) == []
    # The same fleet at a fifth of the quota would drop devices faster than they get back.
    assert step_problems(refresh_steps(4, maxconn, 150_000, 100, staged), 100)


def test_replaced_proxies_end_their_sessions_on_deregistration(modes):
    proxies = [g for g in modes["tls-proxy"].of_type("aws:lb/targetGroup:TargetGroup")
               if g.inputs["targetType"] == "instance"]
    assert len(proxies) == len(FAMILY_PORTS)
    for group in proxies:
        assert group.inputs["deregistrationDelay"] == 300 and group.inputs["connectionTermination"] is True


def test_the_proxy_ami_is_the_pinned_one_and_no_latest_ami_is_read(modes):
    """A new Amazon Linux release must not change the template: the stack reads no AMI parameter."""
    iot = modes["tls-proxy"]
    (lt,) = iot.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["imageId"] == example_config("iot")["deviceAccess"]["amiId"]
    assert not [args for token, args in iot.invokes if token == "aws:ssm/getParameter:getParameter"]


def _user_data(lt):
    return base64.b64decode(lt.inputs["userData"]).decode()


@pytest.mark.parametrize("change,problem", [
    ({"metadataOptions": {"httpTokens": "optional"}}, "IMDSv1"),
    ({"keyName": "ops"}, "SSH key"),
])
def test_a_weakened_launch_template_is_caught(modes, change, problem):
    assert launch_template_problems(broken(modes["tls-proxy"], "gatekeeper-access-proxy", **change)) == [problem]


def test_tcp_passthrough_forwards_family_ports_to_the_endpoints_on_443(modes):
    iot = modes["tcp-passthrough"]
    ls = listeners(iot)
    assert sorted(ls) == [443, 8080, 8081, 8883]
    for port in FAMILY_PORTS:
        assert ls[port].inputs["protocol"] == "TCP"
        group = group_of(iot, ls[port])
        assert group.inputs["port"] == 443 and group.inputs["targetType"] == "ip"
        assert group.inputs["preserveClientIp"] == "false"
        targets = sorted((a.inputs["targetId"], a.inputs["port"])
                         for a in iot.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment")
                         if a.inputs["targetGroupArn"] == group.state["arn"])
        assert targets == sorted((ip, 443) for ip in iot.exports["dataEndpointIps"])


def test_direct_mode_has_no_family_listeners(modes):
    assert sorted(listeners(modes["direct"])) == [443, 8883]


@pytest.mark.parametrize("mode,fleet", [("tls-proxy", True), ("tcp-passthrough", False), ("direct", False)])
def test_proxy_fleet_exists_only_in_tls_proxy(modes, mode, fleet):
    types = {r.type for r in modes[mode].resources}
    assert bool(types & FLEET) is fleet


@pytest.mark.parametrize("mode,target", [("tls-proxy", "nlbIps"), ("tcp-passthrough", "nlbIps"), ("direct", "dataEndpointIps")])
def test_custom_domain_resolves_per_mode(modes, mode, target):
    iot = modes[mode]
    assert custom_domain_ips(iot) == sorted(iot.exports[target])


def family_port_problems(rendered, allowed):
    problems = list(open_rules(rendered))
    for sg in rendered.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in sg.inputs.get("ingress") or []:
            if int(rule["fromPort"]) in FAMILY_PORTS and sg.name == "gatekeeper-nlb-sg":
                if sorted(rule["cidrBlocks"]) != sorted(allowed):
                    problems.append(f"{sg.name} {int(rule['fromPort'])} from {rule['cidrBlocks']}")
    return problems


@pytest.mark.parametrize("mode", ["tls-proxy", "tcp-passthrough", "direct"])
def test_family_ports_only_from_on_prem_and_device_vpc_and_nothing_open(modes, mode):
    iot = modes[mode]
    assert family_port_problems(iot, ["192.168.0.0/16", "10.10.0.0/16"]) == []
    ports = {int(r["fromPort"]) for r in next(s for s in iot.resources if s.name == "gatekeeper-nlb-sg").inputs["ingress"]}
    assert (ports >= set(FAMILY_PORTS)) is (mode != "direct")


def test_a_widened_family_port_is_caught(modes):
    iot = modes["tls-proxy"]
    sg = next(s for s in iot.resources if s.name == "gatekeeper-nlb-sg")
    wide = [dict(r, cidrBlocks=["10.0.0.0/8"]) if int(r["fromPort"]) == 8080 else r for r in sg.inputs["ingress"]]
    assert family_port_problems(broken(iot, "gatekeeper-nlb-sg", ingress=wide), ["192.168.0.0/16", "10.10.0.0/16"]) == [
        "gatekeeper-nlb-sg 8080 from ['10.0.0.0/8']"]


def access_with(**changes):
    cfg = example_config("iot")
    access = dict(cfg["deviceAccess"], **changes)
    cfg["deviceAccess"] = {k: v for k, v in access.items() if v is not None}
    return cfg


@pytest.mark.parametrize("cfg,message", [
    (access_with(families=[{"name": "family1", "port": 8080}, {"name": "family2", "port": 8080}]),
     r"deviceAccess.families\[1\].port 8080 is also deviceAccess.families\[0\].port — two families cannot share a port"),
    (access_with(families=[{"name": "family1", "port": 443}]), r"deviceAccess.families\[0\].port 443 is already an NLB listener"),
    (access_with(families=[{"name": "family1", "port": 8883}]), r"deviceAccess.families\[0\].port 8883 is already an NLB listener"),
    ({k: v for k, v in example_config("iot").items() if k != "customDomainCertificateArn"} | {"authorizer": {"enabled": False}},
     r"deviceAccess.mode tls-proxy needs customDomainCertificateArn"),
    (access_with(families=[{"name": "family1"}]), r"deviceAccess.families\[0\] \(family family1\) has no port"),
    (access_with(mode="socks"), r"deviceAccess.mode 'socks' is not a mode — use one of tls-proxy, tcp-passthrough, direct"),
    (access_with(caBundleFile=None), r"deviceAccess.caBundleFile is required for tls-proxy"),
    (access_with(amiId=None), r"deviceAccess.amiId is required for tls-proxy — pin the proxy fleet's AMI .* `aws ssm "
     r"get-parameters --names /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64 --query "
     r"'Parameters\[0\].Value' --output text`"),
    (access_with(amiId="ami-XYZ"), r"deviceAccess.amiId 'ami-XYZ' is not an AMI ID — like ami-0abcdef1234567890"),
    (access_with(amiId="al2023-latest"), r"deviceAccess.amiId 'al2023-latest' is not an AMI ID"),
    (access_with(mode="direct"), r"deviceAccess.families is used only by tls-proxy and tcp-passthrough"),
    (access_with(proxyMinSize=3), r"deviceAccess.proxyMinSize 3 of t4g.medium \(4,096 MiB, [\d,]+ devices each\) holds "
     r"[\d,]+ devices with one instance lost, fewer than expectedDevices 150,000 — raise deviceAccess.proxyMinSize to at "
     r"least 4$"),
    (access_with(proxyInstanceType="t4g.small"), r"deviceAccess.proxyMinSize 4 of t4g.small \(2,048 MiB, [\d,]+ devices "
     r"each\) .* — raise deviceAccess.proxyMinSize to at least \d+, or deviceAccess.proxyInstanceType t4g.medium"),
    (access_with(proxyInstanceType="t3.small"), r"deviceAccess.proxyInstanceType 't3.small' is not a supported proxy "
     r"instance type — its memory decides how many devices one proxy holds; use one of t4g.small, "),
])
def test_device_access_config_errors(cfg, message):
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, stack="iot")


def test_an_unreadable_ca_bundle_is_a_config_error_before_any_resource(chain, tmp_path):
    cfg = access_with(caBundleFile="certs/missing.pem")
    with pytest.raises(Exception, match=r"deviceAccess.caBundleFile 'certs/missing.pem' cannot be read"):
        render("iot", cfg, {FQ("network"): chain["network-1"].exports})


def test_family_target_group_names_fit_what_elb_accepts_and_differ_per_mode_and_port():
    from components import aws_limits
    from components.device_access import target_group_name

    longest = "f" + "x" * 31  # the longest family name the config accepts
    names = {
        target_group_name(family, port, unique=f"p/iot/10.20.0.0/16/{mode}")
        for family in ("family1", longest) for port in (8080, 65535) for mode in ("tls-proxy", "tcp-passthrough")
    }
    assert len(names) == 8
    for name in names:
        assert aws_limits.name_problem(aws_limits.TARGET_GROUP_NAME, name) is None, name
    assert target_group_name("family1", 8080, unique="u") == target_group_name("family1", 8080, unique="u")


def test_the_refresh_is_paced_by_the_slowest_reconnect_stage():
    cfg = load_config(example_config("iot"), stack="iot")
    from components.proxy_capacity import authorizer_stage

    auth = cfg.authorizer
    slow = authorizer_stage(auth.reserved_concurrency, auth.memory_size, auth.unknown_user_hash).per_second
    assert refresh_rate(cfg) == min(500, slow)
    # A larger reservation takes the authorizer off the path: the quota paces the refresh.
    roomy = example_config("iot")
    roomy["authorizer"] = {**roomy["authorizer"], "reservedConcurrency": 800}
    assert refresh_rate(load_config(roomy, stack="iot")) == 500
