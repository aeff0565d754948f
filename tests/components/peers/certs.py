"""Test PKI made with the openssl command line (EC P-256, short-lived)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.components.peers.processes import require_binary


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path

    def combined(self, path: Path) -> Path:
        """Certificate followed by key in one PEM (HAProxy's `crt` format)."""
        path.write_text(self.cert.read_text() + self.key.read_text())
        return path


def _openssl(*args: str) -> None:
    openssl = require_binary("openssl")
    result = subprocess.run([openssl, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def make_ca(directory: Path, name: str) -> CertPair:
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertPair(cert=directory / f"{name}.crt", key=directory / f"{name}.key")
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", str(pair.key), "-out", str(pair.cert),
    )
    return pair


def make_server_cert(
    directory: Path, ca: CertPair, name: str, dns_name: str, common_name: str | None = None
) -> CertPair:
    """A server certificate for dns_name (SAN; also the CN unless common_name), signed by ca."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertPair(cert=directory / f"{name}.crt", key=directory / f"{name}.key")
    csr = directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text(
        f"subjectAltName=DNS:{dns_name}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", f"/CN={common_name or dns_name}", "-keyout", str(pair.key), "-out", str(csr),
    )
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
        "-days", "2", "-extfile", str(ext), "-out", str(pair.cert),
    )
    return pair


def make_self_signed(directory: Path, name: str, dns_name: str) -> CertPair:
    """Like the proxy's boot-time certificate: self-signed, CN = the domain."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertPair(cert=directory / f"{name}.crt", key=directory / f"{name}.key")
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", f"/CN={dns_name}", "-addext", f"subjectAltName=DNS:{dns_name}",
        "-keyout", str(pair.key), "-out", str(pair.cert),
    )
    return pair
