"""The iot stack's ``fleetProvisioning`` block: certificate devices provisioned through the gatekeeper.

    fleetProvisioning:
      enabled: true                 # provisioning by claim (a FLEET_PROVISIONING template and its hook)
      templateName: plant-devices   # optional; default mqtt-channel-<stack>
      jitp:                         # optional: just-in-time provisioning for devices signed by the company CA
        caCertificateFile: certs/company-ca.pem
        verificationCertificateFile: certs/company-ca-verification.pem
      deviceAdvisor: false          # optional: the role Device Advisor assumes to qualify a device
      migratingFamilies: [meters]   # optional: password families whose devices may provision themselves

Every error names the key, shows the value and says how to fix it, before any resource exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config.shared import ConfigError, _as_bool, _refuse_unknown, parse_raw
from components.proxy_config import ProxyConfigError, validate_ca_bundle

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Provisioning template names: 1-36 characters of [0-9A-Za-z_-] (AWS IoT API reference,
# CreateProvisioningTemplate templateName; terraform-provider-aws iot/provisioning_template.go validates the same).
TEMPLATE_NAME_RE = re.compile(r"[0-9A-Za-z_-]{1,36}")
TEMPLATE_NAME_MAX = 36
_RELATIVE_PATH_RE = re.compile(r"[A-Za-z0-9_./-]+")
# Family names as the authorizer's records hold them (authorizer/records.py validate_family).
_FAMILY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True, kw_only=True)
class JitpConfig:
    """Just-in-time provisioning: the company CA registered with IoT Core and a JITP template.

    ca_certificate_pem: the CA certificate (one PEM certificate) that signs the devices' certificates.
    verification_certificate_pem: the proof of possession IoT Core asks for in DEFAULT mode (a
        certificate the CA signed whose common name is the account's registration code).
    """

    ca_certificate_file: str
    ca_certificate_pem: str
    verification_certificate_file: str
    verification_certificate_pem: str


@dataclass(frozen=True, kw_only=True)
class FleetProvisioningConfig:
    """What the iot stack provisions; all off by default.

    enabled: provisioning by claim through a FLEET_PROVISIONING template with a pre-provisioning hook.
    template_name: the claim template's name (the JITP template is ``<name>-jitp``).
    jitp: just-in-time provisioning for devices the company CA signed, or None.
    device_advisor: the role AWS IoT Device Advisor assumes to qualify a device (outside the channel).
    migrating_families: password-device families moving to certificates: the authorizer also gives their
        devices the claim template's provisioning topics (authorizer/migration.py); needs ``enabled``.
    """

    enabled: bool = False
    template_name: str = ""
    jitp: JitpConfig | None = None
    device_advisor: bool = False
    migrating_families: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return self.enabled or self.jitp is not None or self.device_advisor

    @property
    def jitp_template_name(self) -> str:
        return jitp_template_name(self.template_name)


def default_template_name(stack: str) -> str:
    name = re.sub(r"[^0-9A-Za-z_-]", "-", f"mqtt-channel-{stack}")
    return name[:TEMPLATE_NAME_MAX - len("-jitp")]


def jitp_template_name(name: str) -> str:
    return f"{name}-jitp"


def allow_list_table_name(stack: str) -> str:
    """The allow-list table: named, so its ARN is known before it exists (the VPC's DynamoDB gateway
    endpoint policy names it). DynamoDB table names: 3-255 of [a-zA-Z0-9_.-] (DynamoDB naming rules)."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"mqtt-provisioning-allow-list-{stack}")[:255]


def _read_pem(key: str, path: Any, project_dir: Path) -> tuple[str, str]:
    if not isinstance(path, str) or not _RELATIVE_PATH_RE.fullmatch(path) or ".." in path or path.startswith("/"):
        raise ConfigError(f"{key} {path!r} is not a relative path inside the project — like certs/company-ca.pem")
    try:
        text = (project_dir / path).read_text()
    except OSError as exc:
        raise ConfigError(f"{key} {path!r} cannot be read ({exc.strerror}) — commit the PEM file to the project") from None
    try:
        pem = validate_ca_bundle(key, text)
    except ProxyConfigError as exc:
        raise ConfigError(str(exc)) from None
    if pem.count("-----BEGIN CERTIFICATE-----") != 1:
        raise ConfigError(
            f"{key} {path!r} holds {pem.count('-----BEGIN CERTIFICATE-----')} certificates — RegisterCACertificate "
            "takes exactly one: keep only the CA (or verification) certificate in the file"
        )
    return path, pem


def _load_jitp(value: Any, project_dir: Path) -> JitpConfig | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(
            f"fleetProvisioning.jitp {value!r} is not a map — like {{caCertificateFile: certs/company-ca.pem, "
            "verificationCertificateFile: certs/company-ca-verification.pem}}"
        )
    _refuse_unknown("fleetProvisioning.jitp", value, {"caCertificateFile", "verificationCertificateFile"})
    for key in ("caCertificateFile", "verificationCertificateFile"):
        if value.get(key) is None:
            raise ConfigError(
                f"fleetProvisioning.jitp.{key} is required — "
                + ("the PEM file of the CA that signs the devices' certificates"
                   if key == "caCertificateFile" else
                   "IoT Core registers a CA only with proof of possession: a certificate the CA signed whose common "
                   "name is the account's registration code (`aws iot get-registration-code`)")
            )
    ca_file, ca_pem = _read_pem("fleetProvisioning.jitp.caCertificateFile", value["caCertificateFile"], project_dir)
    ver_file, ver_pem = _read_pem(
        "fleetProvisioning.jitp.verificationCertificateFile", value["verificationCertificateFile"], project_dir
    )
    if ca_pem == ver_pem:
        raise ConfigError(
            "fleetProvisioning.jitp.verificationCertificateFile is the CA certificate itself — give the certificate "
            "the CA signed for the registration code"
        )
    return JitpConfig(
        ca_certificate_file=ca_file, ca_certificate_pem=ca_pem,
        verification_certificate_file=ver_file, verification_certificate_pem=ver_pem,
    )


def load_fleet_provisioning(value: Any, *, stack: str, project_dir: Path = PROJECT_DIR) -> FleetProvisioningConfig:
    """The ``fleetProvisioning`` map of an iot stack (absent: everything off)."""
    if value is None:
        return FleetProvisioningConfig(template_name=default_template_name(stack))
    if isinstance(value, str) and value[:1] == "{":
        value = parse_raw({"fleetProvisioning": value})["fleetProvisioning"]
    if not isinstance(value, dict):
        raise ConfigError(f"fleetProvisioning {value!r} is not a map — like {{enabled: true}}")
    _refuse_unknown("fleetProvisioning", value, {"enabled", "templateName", "jitp", "deviceAdvisor", "migratingFamilies"})
    enabled = _as_bool("fleetProvisioning.enabled", value.get("enabled", False))
    name = value.get("templateName", default_template_name(stack))
    # Room for the "-jitp" suffix of the JITP template.
    longest = TEMPLATE_NAME_MAX - len("-jitp")
    if not isinstance(name, str) or not TEMPLATE_NAME_RE.fullmatch(name) or len(name) > longest:
        raise ConfigError(
            f"fleetProvisioning.templateName {name!r} is not a provisioning template name — 1-{longest} letters, "
            "digits, '_' and '-' (AWS IoT allows 36; the JITP template adds '-jitp')"
        )
    migrating = _migrating_families(value.get("migratingFamilies", []), enabled)
    return FleetProvisioningConfig(
        migrating_families=migrating,
        enabled=enabled,
        template_name=name,
        jitp=_load_jitp(value.get("jitp"), project_dir),
        device_advisor=_as_bool("fleetProvisioning.deviceAdvisor", value.get("deviceAdvisor", False)),
    )


def _migrating_families(value: Any, enabled: bool) -> tuple[str, ...]:
    key = "fleetProvisioning.migratingFamilies"
    if not isinstance(value, list):
        raise ConfigError(f"{key} {value!r} is not a list — like [meters, valves]")
    for index, family in enumerate(value):
        if not isinstance(family, str) or not _FAMILY_RE.fullmatch(family):
            raise ConfigError(
                f"{key}[{index}] {family!r} is not a family name — 1-64 letters, digits, '_' and '-', starting with a "
                "letter or digit, as channelctl devices --family takes it"
            )
    if value and not enabled:
        raise ConfigError(
            f"{key} {value!r} needs fleetProvisioning.enabled: true — the devices provision themselves with the claim "
            "template; turn it on, or empty the list"
        )
    return tuple(sorted(set(value)))
