"""The launch template's user data: rendered, then really run by bash.

dnf, sysctl and systemctl are replaced by recorders; openssl and
`haproxy -c` are the real programs, and every path points into tmp_path.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
from pathlib import Path

import pytest

from components.proxy_config import (
    CA_HEREDOC,
    CONFIG_HEREDOC,
    MAX_USER_DATA_BYTES,
    ProxyConfigError,
    ProxyFamily,
    ProxySettings,
    render_haproxy_config,
    render_user_data,
    validate_ca_bundle,
)
from tests.components.peers.certs import make_ca
from tests.components.peers.haproxy import haproxy_binary
from tests.components.peers.processes import require_binary

pytestmark = pytest.mark.peer

DOMAIN = "iot.example.com"


def _settings(root: Path, **changes: object) -> ProxySettings:
    chroot = root / "chroot"
    chroot.mkdir(exist_ok=True)
    base = ProxySettings(
        custom_domain=DOMAIN,
        families=(ProxyFamily(name="family1", port=8080), ProxyFamily(name="family2", port=8081)),
        endpoint_ips=("10.20.1.10", "10.20.2.10"),
        ca_bundle_path=str(root / "etc/haproxy/iot-ca-bundle.pem"),
        listen_certificate_path=str(root / "etc/haproxy/listen.pem"),
        stats_socket_path=str(root / "stats"),
        chroot_dir=str(chroot),
        run_as_user="haproxy" if os.getuid() == 0 else None,
    )
    return dataclasses.replace(base, **changes)


def _paths(root: Path) -> dict[str, str]:
    return {
        "config_path": str(root / "etc/haproxy/haproxy.cfg"),
        "sysctl_path": str(root / "etc/sysctl.d/90-mqtt-proxy.conf"),
        "systemd_dropin_path": str(root / "etc/systemd/haproxy.service.d/90-mqtt-proxy.conf"),
    }


def _stub_bin(root: Path) -> Path:
    """dnf/sysctl/systemctl that only record their arguments; haproxy is the real one."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name in ("dnf", "sysctl", "systemctl"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{root}/calls.log"\n')
        stub.chmod(0o755)
    (bin_dir / "haproxy").symlink_to(haproxy_binary())
    return bin_dir


def _run(script: str, root: Path) -> subprocess.CompletedProcess[str]:
    path = root / "user-data.sh"
    path.write_text(script)
    env = {"PATH": f"{_stub_bin(root)}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(root)}
    return subprocess.run([require_binary("bash"), str(path)], capture_output=True, text=True, env=env, timeout=60)


def _calls(root: Path) -> list[str]:
    log = root / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def ca_pem(tmp_path: Path) -> str:
    return make_ca(tmp_path / "pki", "bundle-ca").cert.read_text()


def test_user_data_installs_writes_checks_and_starts_haproxy(tmp_path: Path, ca_pem: str) -> None:
    settings = _settings(tmp_path, max_connections=50_000)
    paths = _paths(tmp_path)
    result = _run(render_user_data(settings, ca_bundle_pem=ca_pem, **paths), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

    assert Path(paths["config_path"]).read_text() == render_haproxy_config(settings)
    assert Path(settings.ca_bundle_path).read_text() == ca_pem
    listen = Path(settings.listen_certificate_path)
    assert stat.S_IMODE(listen.stat().st_mode) == 0o600
    assert "BEGIN CERTIFICATE" in listen.read_text() and "PRIVATE KEY" in listen.read_text()
    assert not Path(settings.listen_certificate_path + ".key").exists(), "the loose key file was left behind"
    subject = subprocess.run(
        [require_binary("openssl"), "x509", "-noout", "-subject", "-in", str(listen)], capture_output=True, text=True
    ).stdout
    assert DOMAIN in subject
    sysctl = Path(paths["sysctl_path"]).read_text()
    assert "net.ipv4.ip_local_port_range = 10240 65535" in sysctl
    assert "net.ipv4.ip_local_reserved_ports = 8080,8081,8404" in sysctl
    assert Path(paths["systemd_dropin_path"]).read_text().splitlines() == [
        "[Service]",
        "LimitNOFILE=101024",
        "Restart=always",
        "RestartSec=2s",
    ]
    assert _calls(tmp_path) == [
        "dnf install -y haproxy openssl",
        f"sysctl -p {paths['sysctl_path']}",
        "systemctl daemon-reload",
        "systemctl enable --now haproxy",
    ]


def test_user_data_stops_before_starting_haproxy_when_the_config_check_fails(tmp_path: Path, ca_pem: str) -> None:
    # A user the machine does not have: `haproxy -c` refuses the configuration.
    settings = _settings(tmp_path, run_as_user="no-such-proxy-user")
    result = _run(render_user_data(settings, ca_bundle_pem=ca_pem, **_paths(tmp_path)), tmp_path)
    assert result.returncode != 0
    assert "no-such-proxy-user" in result.stdout + result.stderr
    assert "systemctl enable --now haproxy" not in _calls(tmp_path)


def test_embedded_texts_sit_in_quoted_heredocs(tmp_path: Path, ca_pem: str) -> None:
    script = render_user_data(_settings(tmp_path), ca_bundle_pem=ca_pem, **_paths(tmp_path))
    # Quoted delimiters: bash expands nothing inside ($, backticks stay text).
    assert f"<<'{CONFIG_HEREDOC}'" in script and f"<<'{CA_HEREDOC}'" in script
    assert script.splitlines().count(CONFIG_HEREDOC) == 1  # the closing line only
    assert script.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in script


BAD_BUNDLES = [
    ("empty", "", r"deviceAccess\.caBundle is empty"),
    ("not-pem", "hello", r"caBundle contains text that is not a PEM certificate \('hello'\)"),
    (
        "trailing-shell",
        "-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE-----\nMQTT_PROXY_CA_BUNDLE_END\nrm -rf /\n",
        r"caBundle contains text that is not a PEM certificate \('MQTT_PROXY_CA_BUNDLE_END",
    ),
    ("private-key", "-----BEGIN PRIVATE KEY-----\nMAo=\n-----END PRIVATE KEY-----\n", r"not a PEM certificate"),
    ("bad-base64", "-----BEGIN CERTIFICATE-----\nMA=o\n-----END CERTIFICATE-----\n", r"certificate 1 is not valid base64"),
    ("not-der", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n", r"certificate 1 is not DER-encoded"),
]


@pytest.mark.parametrize(("pem", "message"), [b[1:] for b in BAD_BUNDLES], ids=[b[0] for b in BAD_BUNDLES])
def test_bad_ca_bundles_are_refused(tmp_path: Path, pem: str, message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        render_user_data(_settings(tmp_path), ca_bundle_pem=pem)


def test_a_bundle_of_several_certificates_is_kept_whole(tmp_path: Path) -> None:
    first = make_ca(tmp_path / "a", "first").cert.read_text()
    second = make_ca(tmp_path / "b", "second").cert.read_text()
    assert validate_ca_bundle("caBundle", first + "\r\n" + second) == first + second


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"config_path": "relative.cfg"}, r"configPath 'relative\.cfg' is not a plain absolute path"),
        ({"sysctl_path": "/etc/sysctl.d/a b.conf"}, r"sysctlPath '/etc/sysctl\.d/a b\.conf' is not a plain"),
        ({"systemd_dropin_path": "/etc/x/../y"}, r"systemdDropinPath '/etc/x/\.\./y' is not a normalised"),
    ],
)
def test_bad_script_paths_are_refused(tmp_path: Path, ca_pem: str, changes: dict[str, str], message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        render_user_data(_settings(tmp_path), ca_bundle_pem=ca_pem, **changes)


def test_user_data_over_the_ec2_limit_is_refused(tmp_path: Path, ca_pem: str) -> None:
    copies = MAX_USER_DATA_BYTES // len(ca_pem) + 1
    with pytest.raises(ProxyConfigError, match=r"user data is \d+ bytes, over EC2's 16384-byte limit"):
        render_user_data(_settings(tmp_path), ca_bundle_pem=ca_pem * copies)
    # The same bundle, once, fits.
    assert len(render_user_data(_settings(tmp_path), ca_bundle_pem=ca_pem).encode()) <= MAX_USER_DATA_BYTES
