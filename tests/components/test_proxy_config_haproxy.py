"""The rendered HAProxy configuration, run by the real haproxy on 127.0.0.1.

Between a device that sends neither ALPN nor SNI and (a) a TLS server that
records each handshake, (b) a real mosquitto broker with a password file.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.proxy_config import ProxySettings
from tests.components.peers.certs import CertPair, make_ca, make_self_signed, make_server_cert
from tests.components.peers.haproxy import (
    CUSTOM_DOMAIN,
    device_connect,
    device_context,
    listen_pem,
    loopback_settings,
    start_haproxy,
)
from tests.components.peers.mosquitto import start_mosquitto
from tests.components.peers.mqtt import MQTT_5, MQTT_311, connect_packet, read_connack
from tests.components.peers.processes import LOOPBACK, Peer
from tests.components.peers.tls_recorder import Handshake, TlsRecorder

pytestmark = pytest.mark.peer


@dataclass(frozen=True)
class Pki:
    ca: CertPair
    good: CertPair  # custom domain, signed by the configured CA
    wrong_name: CertPair  # another name, same CA
    wrong_san: CertPair  # CN = the custom domain, but the SAN names another host; same CA
    other_ca: CertPair  # custom domain, signed by a CA the proxy does not trust
    listen: CertPair  # the proxy's own self-signed frontend certificate


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca(root, "test-ca")
    stranger = make_ca(root, "other-ca")
    return Pki(
        ca=ca,
        good=make_server_cert(root, ca, "good", CUSTOM_DOMAIN),
        wrong_name=make_server_cert(root, ca, "wrong-name", "other.example.com"),
        wrong_san=make_server_cert(root, ca, "wrong-san", "other.example.com", common_name=CUSTOM_DOMAIN),
        other_ca=make_server_cert(root, stranger, "other-ca-server", CUSTOM_DOMAIN),
        listen=make_self_signed(root, "listen", CUSTOM_DOMAIN),
    )


@dataclass
class Proxied:
    settings: ProxySettings
    haproxy: Peer
    recorder: TlsRecorder
    device: ssl.SSLContext


def _start_proxied(workdir: Path, pki: Pki, server: CertPair) -> Iterator[Proxied]:
    recorder = TlsRecorder(cert=str(server.cert), key=str(server.key))
    settings = loopback_settings(
        workdir, ca_bundle=pki.ca.cert, listen_pem=listen_pem(workdir, pki.listen), backend_ports=[recorder.port]
    )
    haproxy = start_haproxy(workdir, settings)
    try:
        yield Proxied(settings=settings, haproxy=haproxy, recorder=recorder, device=device_context(pki.listen.cert))
    finally:
        haproxy.stop()
        recorder.stop()


@pytest.fixture
def proxied(tmp_path: Path, pki: Pki) -> Iterator[Proxied]:
    yield from _start_proxied(tmp_path, pki, pki.good)


def _exchange(context: ssl.SSLContext, port: int, payload: bytes) -> bytes:
    """What the device reads back after sending payload; b'' if the proxy closed."""
    with device_connect(context, port) as tls:
        try:
            tls.sendall(payload)
            received = b""
            while len(received) < len(payload) + 5:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                received += chunk
            return received
        except (ssl.SSLError, ConnectionError):
            return b""


def _data_handshakes(recorder: TlsRecorder, payload: bytes, timeout: float = 5.0) -> list[Handshake]:
    """Completed handshakes that carried payload (health checks carry none)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [h for h in recorder.snapshot() if h.completed and h.received == payload]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _recorded(recorder: TlsRecorder, timeout: float = 5.0) -> list[Handshake]:
    """Every handshake recorded so far, waiting up to timeout for the first."""
    deadline = time.monotonic() + timeout
    while not recorder.snapshot() and time.monotonic() < deadline:
        time.sleep(0.05)
    return recorder.snapshot()


def _health(settings: ProxySettings, path: str | None = None) -> int:
    connection = http.client.HTTPConnection(LOOPBACK, settings.health_port, timeout=5)
    try:
        connection.request("GET", path or settings.health_path)
        return connection.getresponse().status
    finally:
        connection.close()


def _wait_health(settings: ProxySettings, expected: int, timeout: float = 8.0) -> int:
    deadline = time.monotonic() + timeout
    status = _health(settings)
    while status != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        status = _health(settings)
    return status


def test_device_without_alpn_or_sni_reaches_the_server_with_alpn_mqtt_and_the_domain_as_sni(proxied: Proxied) -> None:
    # Control: the same device straight to the server sends neither.
    assert _exchange(_direct_context(), proxied.recorder.port, b"direct") == b"echo:direct"
    direct = _data_handshakes(proxied.recorder, b"direct")
    assert [(h.sni, h.alpn) for h in direct] == [(None, None)]

    for family in proxied.settings.families:
        payload = f"via-{family.name}".encode()
        assert _exchange(proxied.device, family.port, payload) == b"echo:" + payload
        seen = _data_handshakes(proxied.recorder, payload)
        assert [(h.sni, h.alpn) for h in seen] == [(CUSTOM_DOMAIN, "mqtt")], family

    # Health checks towards the endpoint carry the same SNI and ALPN.
    checks = _data_handshakes(proxied.recorder, b"")
    assert checks, "no health-check handshake reached the server"
    assert {(h.sni, h.alpn) for h in checks} == {(CUSTOM_DOMAIN, "mqtt")}


def _direct_context() -> ssl.SSLContext:
    # Straight to the recorder: trust nothing in particular, send no SNI/ALPN.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_backend_tls_sessions_are_resumed_and_keep_alpn(proxied: Proxied) -> None:
    payloads = [f"conn-{i}".encode() for i in range(8)]
    for payload in payloads:
        assert _exchange(proxied.device, proxied.settings.families[0].port, payload) == b"echo:" + payload
    seen = [h for p in payloads for h in _data_handshakes(proxied.recorder, p)]
    assert len(seen) == len(payloads)
    assert any(h.session_reused for h in seen), "haproxy never resumed a TLS session towards the endpoint"
    assert all(h.alpn == "mqtt" and h.sni == CUSTOM_DOMAIN for h in seen)


@pytest.mark.parametrize(
    ("server", "accepted"),
    [("good", True), ("wrong_name", False), ("other_ca", False)],
    ids=["certificate-for-the-domain-from-the-ca", "certificate-for-another-name", "certificate-from-another-ca"],
)
def test_endpoint_certificate_is_verified_against_the_bundle_and_the_domain(
    tmp_path: Path, pki: Pki, server: str, accepted: bool
) -> None:
    for run in _start_proxied(tmp_path, pki, getattr(pki, server)):
        port = run.settings.families[0].port
        reply = _exchange(run.device, port, b"secret-reading")
        if accepted:
            assert reply == b"echo:secret-reading"
            assert _data_handshakes(run.recorder, b"secret-reading")
            assert _wait_health(run.settings, 200) == 200
        else:
            # The device's bytes never reach the impostor: its handshakes fail
            # and the proxy closes the device's connection without data.
            assert reply == b""
            # The recorder's thread records a failed handshake after haproxy
            # may already have closed the device's side: wait for it.
            handshakes = _recorded(run.recorder)
            assert handshakes, "haproxy never tried the endpoint"
            assert not any(h.completed for h in handshakes)
            assert all("alert" in h.error.lower() for h in handshakes), handshakes
            assert _wait_health(run.settings, 503) == 503


def test_haproxy_2_6_accepts_a_certificate_whose_cn_names_the_domain_when_no_san_does(
    tmp_path: Path, pki: Pki
) -> None:
    """HAProxy's own name check falls back to the CN when no SAN matches (RFC 6125 says it must not).

    The tls-proxy section of docs/device-access-and-capacity.md relies on the CA bundle for this case:
    a publicly trusted CA may only issue a CN that is also one of the SANs (CA/Browser Forum Baseline
    Requirements 7.1.4.2.2). If this test fails, HAProxy checks SANs only and that page's caveat can go.
    """
    for run in _start_proxied(tmp_path, pki, pki.wrong_san):
        assert _exchange(run.device, run.settings.families[0].port, b"secret-reading") == b"echo:secret-reading"


def test_health_endpoint_answers_only_its_path(proxied: Proxied) -> None:
    assert _wait_health(proxied.settings, 200) == 200
    assert _health(proxied.settings, "/stats") == 404


@pytest.fixture
def broker_proxy(tmp_path: Path, pki: Pki) -> Iterator[tuple[ProxySettings, ssl.SSLContext]]:
    broker, broker_port = start_mosquitto(tmp_path, pki.good, {"device-0001": "right-password"})
    try:
        settings = loopback_settings(
            tmp_path, ca_bundle=pki.ca.cert, listen_pem=listen_pem(tmp_path, pki.listen), backend_ports=[broker_port]
        )
        haproxy = start_haproxy(tmp_path, settings)
        try:
            yield settings, device_context(pki.listen.cert)
        finally:
            haproxy.stop()
    finally:
        broker.stop()


# Refusal codes mosquitto 2.0 sends: 3.1.1 "not authorized" (5),
# MQTT 5 "not authorized" (0x87).
@pytest.mark.parametrize(
    ("version", "username", "password", "expected"),
    [
        (MQTT_311, "device-0001", "right-password", 0),
        (MQTT_311, "device-0001", "wrong-password", 5),
        (MQTT_311, "device-9999", "right-password", 5),
        (MQTT_5, "device-0001", "right-password", 0),
        (MQTT_5, "device-0001", "wrong-password", 0x87),
    ],
    ids=["311-right", "311-wrong-password", "311-unknown-user", "5-right", "5-wrong-password"],
)
def test_mqtt_connect_through_the_proxy_reaches_mosquitto(
    broker_proxy: tuple[ProxySettings, ssl.SSLContext], version: int, username: str, password: str, expected: int
) -> None:
    settings, device = broker_proxy
    with device_connect(device, settings.families[1].port) as tls:
        tls.sendall(connect_packet("device-0001", username, password, version=version))
        assert read_connack(tls).return_code == expected
