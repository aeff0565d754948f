"""Validation and rendering of the proxy fleet's HAProxy configuration (pure)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from components.proxy_config import (
    MIN_IDLE_TIMEOUT_S,
    ProxyConfigError,
    ProxyFamily,
    ProxySettings,
    ephemeral_ports_per_endpoint,
    render_haproxy_config,
    validate_proxy_settings,
)
from tests.components.peers.certs import make_ca, make_self_signed
from tests.components.peers.haproxy import haproxy_binary

FAMILIES = (ProxyFamily(name="family1", port=8080), ProxyFamily(name="family2", port=8081))
VALID = ProxySettings(custom_domain="iot.example.com", families=FAMILIES, endpoint_ips=("10.20.1.10", "10.20.2.10"))


def with_(**changes: object) -> ProxySettings:
    return dataclasses.replace(VALID, **changes)


def family(name: str = "family1", port: object = 8080) -> ProxyFamily:
    return ProxyFamily(name=name, port=port)  # type: ignore[arg-type]


REFUSED = [
    # custom domain
    ("domain-empty", with_(custom_domain=""), r"deviceAccess\.customDomain '' is not a host name"),
    ("domain-upper", with_(custom_domain="IOT.example.com"), r"customDomain 'IOT\.example\.com' has the label 'IOT'.*lower-case"),
    ("domain-single-label", with_(custom_domain="iot"), r"customDomain 'iot' is a single label"),
    ("domain-leading-hyphen", with_(custom_domain="-iot.example.com"), r"label '-iot' that is not RFC 1123"),
    ("domain-empty-label", with_(custom_domain="iot..example.com"), r"label '' that is not RFC 1123"),
    ("domain-trailing-dot", with_(custom_domain="iot.example.com."), r"label '' that is not RFC 1123"),
    ("domain-wildcard", with_(custom_domain="*.example.com"), r"label '\*' that is not RFC 1123"),
    ("domain-long-label", with_(custom_domain="a" * 64 + ".com"), r"label 'a{64}' that is not RFC 1123.*1-63"),
    ("domain-too-long", with_(custom_domain=("a" * 60 + ".") * 5 + "com"), r"customDomain '(a{60}\.){5}com' is 308 characters long.*at most 253"),
    ("domain-address", with_(custom_domain="10.20.1.10"), r"customDomain '10\.20\.1\.10' looks like an address"),
    ("domain-newline", with_(custom_domain="iot.example.com\nbind :80"), r"customDomain 'iot\.example\.com\\nbind :80'"),
    ("domain-space", with_(custom_domain="iot example.com"), r"label 'iot example' that is not RFC 1123"),
    ("domain-not-text", with_(custom_domain=None), r"customDomain None is not a host name"),
    # families
    ("families-empty", with_(families=()), r"deviceAccess\.families is empty — give at least one family"),
    ("families-list", with_(families=[family()]), r"deviceAccess\.families \[.*\] is a list — pass a tuple of ProxyFamily"),
    ("family-not-a-family", with_(families=({"name": "f", "port": 1},)), r"families\[0\] \{.*\} is not a family"),
    ("family-name-upper", with_(families=(family("Family1"),)), r"families\[0\]\.name 'Family1' is not a family name"),
    ("family-name-underscore", with_(families=(family("fam_1"),)), r"families\[0\]\.name 'fam_1' is not a family name"),
    ("family-name-hyphen-end", with_(families=(family("fam-"),)), r"families\[0\]\.name 'fam-' is not a family name"),
    ("family-name-long", with_(families=(family("f" * 33),)), r"families\[0\]\.name 'f{33}' is not a family name.*1-32"),
    ("family-name-twice", with_(families=(family("a", 8080), family("a", 8081))), r"families\[1\]\.name 'a' repeats families\[0\]"),
    ("family-no-port", with_(families=(family("a", None),)), r"families\[0\]\.port is missing for family 'a'"),
    ("family-port-zero", with_(families=(family("a", 0),)), r"families\[0\]\.port 0 is not a TCP port.*1 to 65535"),
    ("family-port-high", with_(families=(family("a", 65536),)), r"families\[0\]\.port 65536 is not a TCP port"),
    ("family-port-text", with_(families=(family("a", "8080"),)), r"families\[0\]\.port '8080' is not a TCP port"),
    ("family-port-bool", with_(families=(family("a", True),)), r"families\[0\]\.port True is not a TCP port"),
    ("family-port-shared", with_(families=(family("a", 8080), family("b", 8080))), r"families\[1\]\.port 8080 is already the port of family 'a'.*cannot share"),
    ("family-port-443", with_(families=(family("a", 443),)), r"families\[0\]\.port 443 is a port the NLB keeps.*443, 8883"),
    ("family-port-8883", with_(families=(family("a", 8883),)), r"families\[0\]\.port 8883 is a port the NLB keeps"),
    ("family-port-health", with_(families=(family("a", 8404),)), r"families\[0\]\.port 8404 equals healthPort"),
    # endpoint IPs
    ("ips-empty", with_(endpoint_ips=()), r"deviceAccess\.endpointIps is empty — give the iot\.data endpoint IPv4"),
    ("ips-list", with_(endpoint_ips=["10.0.0.1"]), r"endpointIps \['10\.0\.0\.1'\] is a list — pass a tuple"),
    ("ip-short", with_(endpoint_ips=("10.0.0",)), r"endpointIps\[0\] '10\.0\.0' is not an IPv4 address"),
    ("ip-v6", with_(endpoint_ips=("::1",)), r"endpointIps\[0\] '::1' is not an IPv4 address"),
    ("ip-leading-zero", with_(endpoint_ips=("10.0.0.01",)), r"endpointIps\[0\] '10\.0\.0\.01' is not an IPv4 address"),
    ("ip-space", with_(endpoint_ips=("10.0.0.1 ",)), r"endpointIps\[0\] '10\.0\.0\.1 ' is not an IPv4 address"),
    ("ip-injection", with_(endpoint_ips=("10.0.0.1:443 backup\n",)), r"endpointIps\[0\] '10\.0\.0\.1:443 backup\\n'"),
    ("ip-unspecified", with_(endpoint_ips=("0.0.0.0",)), r"endpointIps\[0\] '0\.0\.0\.0' cannot be an endpoint address"),
    ("ip-multicast", with_(endpoint_ips=("224.0.0.1",)), r"endpointIps\[0\] '224\.0\.0\.1' cannot be an endpoint"),
    ("ip-link-local", with_(endpoint_ips=("169.254.169.254",)), r"endpointIps\[0\] '169\.254\.169\.254' cannot be an endpoint"),
    ("ip-twice", with_(endpoint_ips=("10.0.0.1", "10.0.0.1")), r"endpointIps\[1\] '10\.0\.0\.1' is listed twice"),
    # paths
    ("path-relative", with_(ca_bundle_path="etc/ca.pem"), r"caBundlePath 'etc/ca\.pem' is not a plain absolute path"),
    ("path-space", with_(ca_bundle_path="/etc/my ca.pem"), r"caBundlePath '/etc/my ca\.pem' is not a plain absolute path"),
    ("path-quote", with_(listen_certificate_path="/etc/x'.pem"), r"listenCertificatePath \"/etc/x'\.pem\" is not a plain"),
    ("path-newline", with_(listen_certificate_path="/etc/x\n.pem"), r"listenCertificatePath '/etc/x\\n\.pem' is not a plain"),
    ("path-hash", with_(ca_bundle_path="/etc/ca#.pem"), r"caBundlePath '/etc/ca#\.pem'.*no spaces, quotes, '#'"),
    ("path-dollar", with_(ca_bundle_path="/etc/$HOME.pem"), r"caBundlePath '/etc/\$HOME\.pem' is not a plain"),
    ("path-dotdot", with_(ca_bundle_path="/etc/../ca.pem"), r"caBundlePath '/etc/\.\./ca\.pem' is not a normalised file path"),
    ("path-trailing-slash", with_(stats_socket_path="/var/lib/haproxy/"), r"statsSocketPath '/var/lib/haproxy/' is not a normalised"),
    ("path-double-slash", with_(ca_bundle_path="/etc//ca.pem"), r"caBundlePath '/etc//ca\.pem' is not a normalised"),
    ("chroot-relative", with_(chroot_dir="var/lib"), r"chrootDir 'var/lib' is not a plain absolute path"),
    ("user-injection", with_(run_as_user="haproxy\n"), r"runAsUser 'haproxy\\n' is not a system user name"),
    ("user-upper", with_(run_as_user="HAProxy"), r"runAsUser 'HAProxy' is not a system user name"),
    # addresses, ports, health path
    ("bind-name", with_(bind_address="localhost"), r"bindAddress 'localhost' is not an IPv4 address"),
    ("bind-multicast", with_(bind_address="224.0.0.1"), r"bindAddress '224\.0\.0\.1' cannot be bound"),
    ("backend-port", with_(backend_port=0), r"backendPort 0 is not a TCP port"),
    ("health-port", with_(health_port=70000), r"healthPort 70000 is not a TCP port"),
    ("health-path-relative", with_(health_path="healthz"), r"healthPath 'healthz' is not a plain URL path"),
    ("health-path-space", with_(health_path="/a b"), r"healthPath '/a b' is not a plain URL path"),
    ("health-path-brace", with_(health_path="/x}"), r"healthPath '/x}' is not a plain URL path"),
    # timeouts and sizes
    ("connect-timeout-zero", with_(connect_timeout_s=0), r"connectTimeoutSeconds 0 is out of range.*1s to 30s"),
    ("connect-timeout-high", with_(connect_timeout_s=31), r"connectTimeoutSeconds 31 is out of range"),
    ("idle-timeout-short", with_(idle_timeout_s=344), r"idleTimeoutSeconds 344 is out of range.*345s to 3600s.*1\.5 x the 230 s"),
    ("idle-timeout-long", with_(idle_timeout_s=3601), r"idleTimeoutSeconds 3601 is out of range"),
    ("idle-timeout-text", with_(idle_timeout_s="360"), r"idleTimeoutSeconds '360' is out of range"),
    ("check-interval", with_(check_interval_s=0), r"checkIntervalSeconds 0 is out of range"),
    ("check-fall", with_(check_fall=0), r"checkFall 0 is out of range"),
    ("check-rise", with_(check_rise=11), r"checkRise 11 is out of range"),
    ("max-connections-zero", with_(max_connections=0), r"maxConnections 0 is out of range"),
    ("max-connections-huge", with_(max_connections=1_000_001), r"maxConnections 1000001 is out of range"),
    (
        "max-connections-over-source-ports",
        with_(endpoint_ips=("10.20.1.10",), max_connections=60_000),
        r"maxConnections 60000 exceeds the 55296 source ports one instance has towards 1 endpoint IP\(s\)",
    ),
]


@pytest.mark.parametrize(("settings", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_bad_settings_are_refused_with_the_key_the_value_and_a_fix(settings: ProxySettings, message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        validate_proxy_settings(settings)
    # The renderer refuses the same input: nothing unvalidated reaches the text.
    with pytest.raises(ProxyConfigError, match=message):
        render_haproxy_config(settings)


ACCEPTED = [
    ("example", VALID),
    ("one-family-one-ip", with_(families=(family("f", 1883),), endpoint_ips=("10.0.0.5",))),
    ("idle-timeout-at-minimum", with_(idle_timeout_s=MIN_IDLE_TIMEOUT_S)),
    ("max-connections-at-source-port-limit", with_(endpoint_ips=("10.20.1.10",), max_connections=55_296)),
    ("no-privilege-drop", with_(run_as_user=None, chroot_dir=None)),
    ("max-label-63", with_(custom_domain="a" * 63 + ".example.com")),
]


@pytest.mark.parametrize("settings", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_good_settings_are_accepted(settings: ProxySettings) -> None:
    validate_proxy_settings(settings)
    assert render_haproxy_config(settings).startswith("# Generated")


def test_messages_name_the_callers_key() -> None:
    with pytest.raises(ProxyConfigError, match=r"^iot\.deviceAccess\.families\[0\]\.port 443 "):
        validate_proxy_settings(with_(families=(family("a", 443),)), key="iot.deviceAccess")


def test_reserved_ports_inside_the_ephemeral_range_reduce_the_source_ports() -> None:
    assert ephemeral_ports_per_endpoint(VALID) == 65535 - 10240 + 1
    inside = with_(families=(family("a", 20000), family("b", 20001)), health_port=20002)
    assert ephemeral_ports_per_endpoint(inside) == 65535 - 10240 + 1 - 3


# --------------------------------------------------------------------------- #
# Rendering
# --------------------------------------------------------------------------- #


def sections(config: str) -> dict[str, list[str]]:
    """haproxy.cfg split into sections: 'global', 'defaults', 'frontend x', ..."""
    result: dict[str, list[str]] = {}
    current = None
    for line in config.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            current = line.strip()
            assert current not in result, f"section {current!r} appears twice"
            result[current] = []
        else:
            assert current is not None
            result[current].append(line.strip())
    return result


def seconds(section: list[str], name: str) -> int:
    [value] = [line.split()[2] for line in section if line.startswith(f"timeout {name} ")]
    assert value.endswith("s")
    return int(value[:-1])


def test_rendering_is_deterministic() -> None:
    assert render_haproxy_config(VALID) == render_haproxy_config(dataclasses.replace(VALID))


def test_one_tls_frontend_per_family_port_with_the_boot_certificate() -> None:
    parsed = sections(render_haproxy_config(VALID))
    assert parsed["frontend family-family1"] == [
        "bind 0.0.0.0:8080 ssl crt /etc/haproxy/listen.pem",
        "default_backend iot_data",
    ]
    assert parsed["frontend family-family2"][0] == "bind 0.0.0.0:8081 ssl crt /etc/haproxy/listen.pem"
    assert "mode tcp" in parsed["defaults"]
    assert "ssl-default-bind-options ssl-min-ver TLSv1.2" in parsed["global"]


def test_every_endpoint_is_a_verified_tls_server_with_alpn_mqtt_and_the_domain_as_sni() -> None:
    parsed = sections(render_haproxy_config(VALID))
    backend = parsed["backend iot_data"]
    assert [line for line in backend if line.startswith("server ")] == [
        "server endpoint-1 10.20.1.10:443",
        "server endpoint-2 10.20.2.10:443",
    ]
    [defaults] = [line.split()[1:] for line in backend if line.startswith("default-server ")]
    options = " ".join(defaults)
    for expected in (
        "ssl verify required ca-file /etc/haproxy/iot-ca-bundle.pem",
        "sni str(iot.example.com)",
        "verifyhost iot.example.com",
        "alpn mqtt",
        "ssl-reuse",
        "check check-sni iot.example.com check-alpn mqtt",
        "inter 10s fall 3 rise 2",
    ):
        assert expected in options
    assert "no-ssl-reuse" not in options
    assert "verify none" not in options


def test_timeouts_outlast_the_longest_mqtt_keepalive_through_an_endpoint() -> None:
    defaults = sections(render_haproxy_config(VALID))["defaults"]
    for name in ("client", "server", "tunnel"):
        assert seconds(defaults, name) >= 230 * 1.5
    assert seconds(defaults, "connect") == 5


def test_health_endpoint_fails_when_no_endpoint_is_up() -> None:
    health = sections(render_haproxy_config(VALID))["frontend health"]
    assert "bind 0.0.0.0:8404" in health
    assert "monitor-uri /healthz" in health
    assert "monitor fail if { nbsrv(iot_data) lt 1 }" in health


@pytest.mark.peer
def test_haproxy_accepts_the_production_configuration_without_warnings(tmp_path: Path) -> None:
    ca = make_ca(tmp_path, "ca")
    listen = make_self_signed(tmp_path, "listen", "iot.example.com").combined(tmp_path / "listen.pem")
    production_but_local_files = with_(
        ca_bundle_path=str(ca.cert),
        listen_certificate_path=str(listen),
        stats_socket_path=str(tmp_path / "stats"),
        chroot_dir=str(tmp_path),
    )
    config = tmp_path / "haproxy.cfg"
    config.write_text(render_haproxy_config(production_but_local_files))
    result = subprocess.run([haproxy_binary(), "-c", "-f", str(config)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output and "ALERT" not in output, output


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
_LINES = len(render_haproxy_config(VALID).splitlines())


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(
        ["custom_domain", "ca_bundle_path", "listen_certificate_path", "stats_socket_path", "chroot_dir",
         "run_as_user", "bind_address", "health_path", "family_name", "endpoint_ip"]
    ),
    value=_text,
)
def test_any_text_is_either_refused_or_stays_one_safe_token(field: str, value: str) -> None:
    if field == "family_name":
        settings = with_(families=(family(value, 8080),))
    elif field == "endpoint_ip":
        settings = with_(endpoint_ips=(value,))
    else:
        settings = with_(**{field: value})
    try:
        config = render_haproxy_config(settings)
    except ProxyConfigError:
        return
    lines = config.splitlines()
    expected_lines = _LINES - (1 if field == "endpoint_ip" else 0) - (4 if field == "family_name" else 0)
    assert len(lines) == expected_lines
    body = " ".join(line for line in lines if not line.startswith("#"))
    assert re.fullmatch(r"[A-Za-z0-9._/~:(){} -]*", body), body
    assert not re.search(r"[\"'$\\;`|&<>]", value)
