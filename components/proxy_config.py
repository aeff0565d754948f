"""HAProxy configuration and boot script for the `tls-proxy` device-access mode.

Devices that cannot send TLS ALPN or SNI connect to the internal NLB on their
family's port. The NLB terminates their TLS with the custom domain's ACM
certificate and opens a new TLS connection to a proxy instance on the same
port. HAProxy on that instance terminates the NLB's TLS with a self-signed
certificate made at boot (an NLB does not validate target certificates) and
re-originates TLS to the iot.data endpoint IPs on 443 with ALPN ``mqtt``, SNI =
the custom domain, and the server certificate verified against the configured
CA bundle and that name.

Everything here is pure: ``render_haproxy_config`` and ``render_user_data``
turn a validated ``ProxySettings`` into text, and every value they splice into
that text has passed ``validate_proxy_settings`` first.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import posixpath
import re
from dataclasses import dataclass

from components.proxy_capacity import DEFAULT_PROXY_INSTANCE_TYPE, devices_per_instance

# MQTT keep-alive through an IoT interface endpoint is capped at 230 s (AWS IoT
# Core developer guide, "IoT Core with interface VPC endpoints"). A broker
# drops a client after 1.5 x keep-alive of silence, so any idle timeout on the
# path must be longer than that or the proxy cuts healthy, quiet devices.
MAX_ENDPOINT_KEEPALIVE_S = 230
MIN_IDLE_TIMEOUT_S = MAX_ENDPOINT_KEEPALIVE_S * 3 // 2  # 345 s
MAX_IDLE_TIMEOUT_S = 3600

# Ports the NLB already uses for devices that do send ALPN/SNI (tcp-passthrough
# forwards 443, X.509 devices use 8883): a family cannot share them.
RESERVED_NLB_PORTS = frozenset({443, 8883})

# The boot script widens the ephemeral range so one proxy instance can hold
# this many connections to ONE endpoint IP:443 (the Linux default range,
# 32768-60999, would allow only 28,232).
EPHEMERAL_PORT_LOW = 10240
EPHEMERAL_PORT_HIGH = 65535

# EC2 refuses user data larger than 16 KB before base64 encoding.
MAX_USER_DATA_BYTES = 16 * 1024

# Heredoc delimiters. No validated value can contain a newline, and every line
# the renderers write starts with a keyword, a comment or indentation, so a
# line equal to one of these cannot occur inside the embedded text;
# render_user_data still refuses to emit a script where it would.
CONFIG_HEREDOC = "MQTT_PROXY_HAPROXY_CFG_END"
CA_HEREDOC = "MQTT_PROXY_CA_BUNDLE_END"
SYSCTL_HEREDOC = "MQTT_PROXY_SYSCTL_END"
DROPIN_HEREDOC = "MQTT_PROXY_SYSTEMD_END"

BACKEND_NAME = "iot_data"
HEALTH_FRONTEND_NAME = "health"

_FAMILY_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]+$")
_HTTP_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_PEM_CERT_RE = re.compile(
    r"-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+?)\n?-----END CERTIFICATE-----\n?"
)


class ProxyConfigError(ValueError):
    """A device-access proxy setting is missing, malformed or inconsistent."""


@dataclass(frozen=True, kw_only=True)
class ProxyFamily:
    """One device family: the devices' port on the NLB and on the proxy.

    name: [a-z0-9-], 1-32 characters, unique; names the HAProxy frontend.
    port: 1-65535, unique across families, never 443/8883 (the NLB's own
        listeners for ALPN/SNI-capable devices) nor the health port.
    """

    name: str
    port: int


@dataclass(frozen=True, kw_only=True)
class ProxySettings:
    """Everything the proxy fleet's HAProxy needs; see validate_proxy_settings.

    custom_domain: the devices' host name (RFC 1123, lower case). Sent as SNI
        to the endpoints, checked against their certificate, and the CN of the
        proxy's own boot-time certificate.
    families: the device families, at least one.
    endpoint_ips: the iot.data interface endpoint IPv4 addresses (fixed by
        config), at least one, no duplicates.
    ca_bundle_path: where the CA bundle that signs the custom domain's server
        certificate is written; the backend verifies against it.
    listen_certificate_path: where the boot script writes the PEM (certificate
        + key) the frontends present to the NLB.
    bind_address: the address the frontends and the health endpoint bind;
        0.0.0.0 = the instance's own addresses (the security group decides who
        reaches them). Tests pass 127.0.0.1.
    backend_port: the endpoints' port, 443 on AWS; tests pass a local port.
    health_port / health_path: HTTP health endpoint for the NLB target group
        and the Auto Scaling group: 200 while at least one endpoint passes its
        health check, 503 otherwise.
    stats_socket_path: a local UNIX socket, read-only level, for operators on
        the instance (``show stat``); never exposed on the network.
    run_as_user / chroot_dir: privileges HAProxy drops to after binding;
        None keeps them (only for tests run without root).
    connect_timeout_s: TCP+TLS connect timeout towards an endpoint, 1-30.
    idle_timeout_s: client and server inactivity timeout, 345-3600 s: longer
        than 1.5 x the 230 s keep-alive an IoT VPC endpoint allows.
    check_interval_s / check_fall / check_rise: endpoint health checks (TLS
        handshake with check-sni and check-alpn): every interval, down after
        `fall` failures, up after `rise` successes.
    max_connections: concurrent device connections one instance accepts
        (HAProxy's maxconn): what the instance type's memory holds
        (components.proxy_capacity), so HAProxy refuses new connections
        before the kernel's OOM killer ends it. The default is the default
        instance type's.
    """

    custom_domain: str
    families: tuple[ProxyFamily, ...]
    endpoint_ips: tuple[str, ...]
    ca_bundle_path: str = "/etc/haproxy/iot-ca-bundle.pem"
    listen_certificate_path: str = "/etc/haproxy/listen.pem"
    bind_address: str = "0.0.0.0"
    backend_port: int = 443
    health_port: int = 8404
    health_path: str = "/healthz"
    stats_socket_path: str = "/var/lib/haproxy/stats"
    run_as_user: str | None = "haproxy"
    chroot_dir: str | None = "/var/lib/haproxy"
    connect_timeout_s: int = 5
    idle_timeout_s: int = 360
    check_interval_s: int = 10
    check_fall: int = 3
    check_rise: int = 2
    max_connections: int = devices_per_instance(DEFAULT_PROXY_INSTANCE_TYPE)


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def validate_proxy_settings(settings: ProxySettings, *, key: str = "deviceAccess") -> None:
    """Refuse any value that could not be spliced safely or would not work.

    ``key`` prefixes each field in messages so they name the config key the
    value came from (``deviceAccess.families[1].port``).
    """
    _check_hostname(f"{key}.customDomain", settings.custom_domain)
    _check_families(key, settings)
    _check_endpoint_ips(f"{key}.endpointIps", settings.endpoint_ips)
    for field_key, path in (
        ("caBundlePath", settings.ca_bundle_path),
        ("listenCertificatePath", settings.listen_certificate_path),
        ("statsSocketPath", settings.stats_socket_path),
    ):
        check_path(f"{key}.{field_key}", path)
    if settings.chroot_dir is not None:
        check_path(f"{key}.chrootDir", settings.chroot_dir)
    if settings.run_as_user is not None and not _USER_RE.fullmatch(str(settings.run_as_user)):
        raise ProxyConfigError(
            f"{key}.runAsUser {settings.run_as_user!r} is not a system user name — "
            "use lower-case letters, digits, '_' or '-' (for example 'haproxy')"
        )
    _check_bind_address(f"{key}.bindAddress", settings.bind_address)
    _check_port(f"{key}.backendPort", settings.backend_port)
    _check_port(f"{key}.healthPort", settings.health_port)
    if not isinstance(settings.health_path, str) or not _HTTP_PATH_RE.fullmatch(settings.health_path):
        raise ProxyConfigError(
            f"{key}.healthPath {settings.health_path!r} is not a plain URL path — "
            "start with '/' and use letters, digits and . _ ~ / - only (for example '/healthz')"
        )
    _check_range(f"{key}.connectTimeoutSeconds", settings.connect_timeout_s, 1, 30, "s")
    _check_range(
        f"{key}.idleTimeoutSeconds",
        settings.idle_timeout_s,
        MIN_IDLE_TIMEOUT_S,
        MAX_IDLE_TIMEOUT_S,
        "s",
        why=f"it must outlast 1.5 x the {MAX_ENDPOINT_KEEPALIVE_S} s MQTT keep-alive an IoT VPC endpoint allows",
    )
    _check_range(f"{key}.checkIntervalSeconds", settings.check_interval_s, 1, 300, "s")
    _check_range(f"{key}.checkFall", settings.check_fall, 1, 10, "")
    _check_range(f"{key}.checkRise", settings.check_rise, 1, 10, "")
    _check_capacity(key, settings)


def check_path(key: str, value: object) -> str:
    """An absolute file path made only of characters safe in HAProxy and bash."""
    if not isinstance(value, str) or not _PATH_RE.fullmatch(value):
        raise ProxyConfigError(
            f"{key} {value!r} is not a plain absolute path — start with '/' and use letters, "
            "digits and . _ / - only (no spaces, quotes, '#', '$' or newlines)"
        )
    if ".." in value.split("/") or value.endswith("/") or posixpath.normpath(value) != value:
        raise ProxyConfigError(
            f"{key} {value!r} is not a normalised file path — remove '..', '//', '.' "
            "segments and any trailing '/'"
        )
    return value


def _check_hostname(key: str, value: object) -> None:
    how = "use lower-case letters, digits, '-' and dots, like 'iot.example.com'"
    if not isinstance(value, str) or not value:
        raise ProxyConfigError(f"{key} {value!r} is not a host name — {how}")
    if len(value) > 253:
        raise ProxyConfigError(f"{key} {value!r} is {len(value)} characters long — a DNS name has at most 253")
    labels = value.split(".")
    if len(labels) < 2:
        raise ProxyConfigError(f"{key} {value!r} is a single label — give the full domain name, {how}")
    for label in labels:
        if not _LABEL_RE.fullmatch(label):
            raise ProxyConfigError(
                f"{key} {value!r} has the label {label!r} that is not RFC 1123 — {how}; "
                "each label 1-63 characters, not starting or ending with '-'"
            )
    if labels[-1].isdigit():
        raise ProxyConfigError(f"{key} {value!r} looks like an address, not a host name — {how}")


def _check_port(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ProxyConfigError(f"{key} {value!r} is not a TCP port — use an integer from 1 to 65535")
    return value


def _check_range(key: str, value: object, low: int, high: int, unit: str, *, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reason = f" ({why})" if why else ""
        raise ProxyConfigError(
            f"{key} {value!r} is out of range — use an integer from {low}{unit} to {high}{unit}{reason}"
        )


def _check_families(key: str, settings: ProxySettings) -> None:
    families = settings.families
    if not isinstance(families, tuple):
        raise ProxyConfigError(f"{key}.families {families!r} is a {type(families).__name__} — pass a tuple of ProxyFamily")
    if not families:
        raise ProxyConfigError(
            f"{key}.families is empty — give at least one family, like [{{name: family1, port: 8080}}]"
        )
    names: dict[str, int] = {}
    ports: dict[int, str] = {}
    for index, family in enumerate(families):
        where = f"{key}.families[{index}]"
        if not isinstance(family, ProxyFamily):
            raise ProxyConfigError(f"{where} {family!r} is not a family — give {{name, port}}")
        if not isinstance(family.name, str) or not _FAMILY_NAME_RE.fullmatch(family.name):
            raise ProxyConfigError(
                f"{where}.name {family.name!r} is not a family name — use 1-32 lower-case "
                "letters, digits or '-', not starting or ending with '-' (for example 'family1')"
            )
        if family.port is None:
            raise ProxyConfigError(f"{where}.port is missing for family {family.name!r} — give the devices' port, like 8080")
        _check_port(f"{where}.port", family.port)
        if family.name in names:
            raise ProxyConfigError(
                f"{where}.name {family.name!r} repeats families[{names[family.name]}] — give each family its own name"
            )
        if family.port in ports:
            raise ProxyConfigError(
                f"{where}.port {family.port} is already the port of family {ports[family.port]!r} — "
                "two families cannot share a port; give each its own"
            )
        if family.port in RESERVED_NLB_PORTS:
            raise ProxyConfigError(
                f"{where}.port {family.port} is a port the NLB keeps for devices that send "
                f"ALPN/SNI ({', '.join(map(str, sorted(RESERVED_NLB_PORTS)))}) — choose another port"
            )
        if family.port == settings.health_port:
            raise ProxyConfigError(
                f"{where}.port {family.port} equals healthPort — choose another port for the family or the health check"
            )
        names[family.name] = index
        ports[family.port] = family.name


def _check_endpoint_ips(key: str, values: object) -> None:
    if not isinstance(values, tuple):
        raise ProxyConfigError(f"{key} {values!r} is a {type(values).__name__} — pass a tuple of IPv4 address strings")
    if not values:
        raise ProxyConfigError(f"{key} is empty — give the iot.data endpoint IPv4 addresses, like ['10.20.1.10']")
    seen: set[str] = set()
    for index, value in enumerate(values):
        where = f"{key}[{index}]"
        try:
            address = ipaddress.IPv4Address(value)
        except (ipaddress.AddressValueError, ValueError, TypeError):
            raise ProxyConfigError(
                f"{where} {value!r} is not an IPv4 address — write it as four dotted numbers, like '10.20.1.10'"
            ) from None
        if str(address) != value:
            raise ProxyConfigError(f"{where} {value!r} is not in canonical form — write it as {str(address)!r}")
        if address.is_unspecified or address.is_multicast or address.is_link_local or address.is_reserved:
            raise ProxyConfigError(
                f"{where} {value!r} cannot be an endpoint address (unspecified, multicast, "
                "link-local or reserved) — use the endpoint's private IP from the VPC"
            )
        if value in seen:
            raise ProxyConfigError(f"{where} {value!r} is listed twice — list each endpoint IP once")
        seen.add(value)


def _check_bind_address(key: str, value: object) -> None:
    try:
        address = ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, ValueError, TypeError):
        raise ProxyConfigError(
            f"{key} {value!r} is not an IPv4 address — use '0.0.0.0' (the instance's addresses) or one address"
        ) from None
    if str(address) != value or address.is_multicast:
        raise ProxyConfigError(f"{key} {value!r} cannot be bound — use '0.0.0.0' or a unicast IPv4 address")


def ephemeral_ports_per_endpoint(settings: ProxySettings) -> int:
    """Source ports one instance has towards ONE endpoint IP:port."""
    reserved = {f.port for f in settings.families} | {settings.health_port}
    in_range = {p for p in reserved if EPHEMERAL_PORT_LOW <= p <= EPHEMERAL_PORT_HIGH}
    return EPHEMERAL_PORT_HIGH - EPHEMERAL_PORT_LOW + 1 - len(in_range)


def _check_capacity(key: str, settings: ProxySettings) -> None:
    _check_range(f"{key}.maxConnections", settings.max_connections, 1, 1_000_000, "")
    # Each device connection is one outbound connection from this instance to
    # one endpoint IP:port, so source ports cap the total.
    limit = ephemeral_ports_per_endpoint(settings) * len(settings.endpoint_ips)
    if settings.max_connections > limit:
        raise ProxyConfigError(
            f"{key}.maxConnections {settings.max_connections} exceeds the {limit} source ports one "
            f"instance has towards {len(settings.endpoint_ips)} endpoint IP(s) — lower it, or add "
            "endpoint IPs or proxy instances"
        )


# --------------------------------------------------------------------------- #
# HAProxy configuration
# --------------------------------------------------------------------------- #


def frontend_name(family: ProxyFamily) -> str:
    return f"family-{family.name}"


def server_name(index: int) -> str:
    return f"endpoint-{index + 1}"


def render_haproxy_config(settings: ProxySettings) -> str:
    """The complete haproxy.cfg for one proxy instance (pure, deterministic)."""
    validate_proxy_settings(settings)
    s = settings
    lines: list[str] = [
        "# Generated by components/proxy_config.py (tls-proxy device access). Do not edit:",
        "# the launch template's user data rewrites it on every new instance.",
        "global",
        "    log stdout format short local0 info",
        f"    maxconn {s.max_connections}",
        f"    stats socket {s.stats_socket_path} mode 600 level user",
        "    ssl-default-bind-options ssl-min-ver TLSv1.2",
        "    ssl-default-server-options ssl-min-ver TLSv1.2",
    ]
    if s.run_as_user is not None:
        lines += [f"    user {s.run_as_user}", f"    group {s.run_as_user}"]
    if s.chroot_dir is not None:
        lines.append(f"    chroot {s.chroot_dir}")
    lines += [
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option tcplog",
        "    option dontlognull",
        # A failed connect to one endpoint IP is retried on another one.
        "    option redispatch",
        "    retries 2",
        f"    maxconn {s.max_connections}",
        f"    timeout connect {s.connect_timeout_s}s",
        f"    timeout client {s.idle_timeout_s}s",
        f"    timeout server {s.idle_timeout_s}s",
        f"    timeout tunnel {s.idle_timeout_s}s",
        "    timeout client-fin 30s",
        "    timeout server-fin 30s",
        f"    timeout check {s.connect_timeout_s}s",
        f"    timeout queue {s.connect_timeout_s}s",
        "",
        f"frontend {HEALTH_FRONTEND_NAME}",
        "    mode http",
        # monitor-uri requests are answered without being logged, so the
        # load balancer's checks do not flood the log.
        "    option httplog",
        f"    bind {s.bind_address}:{s.health_port}",
        f"    monitor-uri {s.health_path}",
        f"    monitor fail if {{ nbsrv({BACKEND_NAME}) lt 1 }}",
        "    http-request deny deny_status 404",
        "",
    ]
    for family in s.families:
        lines += [
            f"frontend {frontend_name(family)}",
            f"    bind {s.bind_address}:{family.port} ssl crt {s.listen_certificate_path}",
            f"    default_backend {BACKEND_NAME}",
            "",
        ]
    # Long-lived MQTT sessions: balance on what is open now, not on arrivals.
    lines += [
        f"backend {BACKEND_NAME}",
        "    balance leastconn",
        "    default-server " + _server_options(s),
    ]
    for index, ip in enumerate(s.endpoint_ips):
        lines.append(f"    server {server_name(index)} {ip}:{s.backend_port}")
    return "\n".join(lines) + "\n"


def _server_options(s: ProxySettings) -> str:
    domain = s.custom_domain
    return " ".join(
        [
            # `sni` also makes HAProxy check the certificate name against it;
            # `verifyhost` repeats the name for connections without SNI.
            f"ssl verify required ca-file {s.ca_bundle_path} sni str({domain}) verifyhost {domain}",
            "alpn mqtt",
            # Resumes the last TLS session per server (HAProxy's default,
            # written out so that a `no-ssl-reuse` elsewhere cannot creep in).
            "ssl-reuse",
            f"check check-sni {domain} check-alpn mqtt",
            f"inter {s.check_interval_s}s fall {s.check_fall} rise {s.check_rise}",
            f"maxconn {ephemeral_ports_per_endpoint(s)}",
        ]
    )


# --------------------------------------------------------------------------- #
# User data (Amazon Linux 2023)
# --------------------------------------------------------------------------- #


def validate_ca_bundle(key: str, pem: object) -> str:
    """A PEM bundle of one or more certificates and nothing else."""
    how = "give the PEM text of the CA certificate(s) that sign the custom domain's server certificate"
    if not isinstance(pem, str) or not pem.strip():
        raise ProxyConfigError(f"{key} is empty — {how}")
    text = pem.replace("\r\n", "\n").strip() + "\n"
    matches = list(_PEM_CERT_RE.finditer(text))
    covered = "".join(m.group(0).rstrip("\n") + "\n" for m in matches)
    rest = _PEM_CERT_RE.sub("", text).strip()
    if not matches or rest:
        shown = (rest or text)[:60]
        raise ProxyConfigError(
            f"{key} contains text that is not a PEM certificate ({shown!r}) — {how}; "
            "only -----BEGIN CERTIFICATE----- blocks are accepted"
        )
    for number, match in enumerate(matches, start=1):
        try:
            der = base64.b64decode(match.group(1).replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise ProxyConfigError(f"{key} certificate {number} is not valid base64 — {how}") from None
        if not der.startswith(b"\x30"):
            raise ProxyConfigError(f"{key} certificate {number} is not DER-encoded X.509 — {how}")
    return covered


def render_user_data(
    settings: ProxySettings,
    *,
    ca_bundle_pem: str,
    config_path: str = "/etc/haproxy/haproxy.cfg",
    sysctl_path: str = "/etc/sysctl.d/90-mqtt-proxy.conf",
    systemd_dropin_path: str = "/etc/systemd/system/haproxy.service.d/90-mqtt-proxy.conf",
) -> str:
    """The launch template's user data: a bash script cloud-init runs once.

    It installs HAProxy, writes the CA bundle, makes the frontend certificate,
    writes the rendered configuration, checks it with ``haproxy -c`` and
    starts the service. The script fails (and cloud-init reports it) at the
    first error, so a broken instance never passes its health check.
    """
    validate_proxy_settings(settings)
    check_path("configPath", config_path)
    check_path("sysctlPath", sysctl_path)
    check_path("systemdDropinPath", systemd_dropin_path)
    bundle = validate_ca_bundle("deviceAccess.caBundle", ca_bundle_pem)
    config = render_haproxy_config(settings)
    s = settings
    reserved = ",".join(str(p) for p in sorted({f.port for f in s.families} | {s.health_port}))
    sysctl = "\n".join(
        [
            f"net.ipv4.ip_local_port_range = {EPHEMERAL_PORT_LOW} {EPHEMERAL_PORT_HIGH}",
            f"net.ipv4.ip_local_reserved_ports = {reserved}",
            "net.core.somaxconn = 4096",
            "net.ipv4.tcp_max_syn_backlog = 4096",
        ]
    ) + "\n"
    # HAProxy raises its own descriptor limit to about 2 x maxconn when it can;
    # the drop-in makes sure the service's hard limit allows it. A crashed
    # HAProxy comes back by itself instead of waiting for the instance to be
    # replaced.
    dropin = "\n".join(
        ["[Service]", f"LimitNOFILE={2 * s.max_connections + 1024}", "Restart=always", "RestartSec=2s", ""]
    )
    key_path = s.listen_certificate_path + ".key"
    crt_path = s.listen_certificate_path + ".crt"
    dirs = sorted({posixpath.dirname(p) for p in (s.ca_bundle_path, s.listen_certificate_path, config_path, sysctl_path, systemd_dropin_path)})
    script = "\n".join(
        [
            "#!/bin/bash",
            "# Proxy instance bootstrap for tls-proxy device access (Amazon Linux 2023).",
            "set -euo pipefail",
            "umask 077",
            "",
            "dnf install -y haproxy openssl",
            "install -d -m 0755 " + " ".join(dirs),
            "",
            f"cat > {s.ca_bundle_path} <<'{CA_HEREDOC}'",
            bundle + CA_HEREDOC,
            f"chmod 0644 {s.ca_bundle_path}",
            "",
            # The NLB's TLS connection to a target does not validate the
            # target's certificate, so a key that never leaves the instance
            # is enough to encrypt that hop.
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \\",
            f"    -subj '/CN={s.custom_domain}' -addext 'subjectAltName=DNS:{s.custom_domain}' \\",
            f"    -keyout {key_path} -out {crt_path}",
            f"cat {crt_path} {key_path} > {s.listen_certificate_path}",
            f"rm -f {key_path}",
            f"chmod 0600 {s.listen_certificate_path}",
            "",
            f"cat > {config_path} <<'{CONFIG_HEREDOC}'",
            config + CONFIG_HEREDOC,
            f"chmod 0644 {config_path}",
            "",
            f"cat > {sysctl_path} <<'{SYSCTL_HEREDOC}'",
            sysctl + SYSCTL_HEREDOC,
            f"chmod 0644 {sysctl_path}",
            f"sysctl -p {sysctl_path}",
            "",
            f"cat > {systemd_dropin_path} <<'{DROPIN_HEREDOC}'",
            dropin + DROPIN_HEREDOC,
            f"chmod 0644 {systemd_dropin_path}",
            "",
            f"haproxy -c -f {config_path}",
            "systemctl daemon-reload",
            "systemctl enable --now haproxy",
            "",
        ]
    )
    for delimiter, body in ((CA_HEREDOC, bundle), (CONFIG_HEREDOC, config), (SYSCTL_HEREDOC, sysctl), (DROPIN_HEREDOC, dropin)):
        if delimiter in body:
            raise ProxyConfigError(f"heredoc delimiter {delimiter} occurs in the text it wraps — refusing to render")
    size = len(script.encode())
    if size > MAX_USER_DATA_BYTES:
        raise ProxyConfigError(
            f"user data is {size} bytes, over EC2's {MAX_USER_DATA_BYTES}-byte limit — "
            "shorten deviceAccess.caBundle (only the CA certificates that sign the custom domain) "
            "or list fewer families"
        )
    return script
