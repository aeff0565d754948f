"""fleetProvisioning config: off by default; each refusal names the key, shows the value and says the fix."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from components.config.provisioning import (
    allow_list_table_name,
    default_template_name,
    load_fleet_provisioning,
)

CA = "tests/components/data/jitp-example-ca.pem"
VERIFICATION = "tests/components/data/jitp-example-verification.pem"


def test_absent_means_everything_off():
    fleet = load_fleet_provisioning(None, stack="iot")
    assert (fleet.enabled, fleet.jitp, fleet.device_advisor, fleet.any) == (False, None, False, False)
    assert fleet.template_name == "mqtt-channel-iot"


def test_claim_jitp_and_device_advisor_on():
    fleet = load_fleet_provisioning(
        {"enabled": True, "templateName": "plant_devices", "deviceAdvisor": "true",
         "jitp": {"caCertificateFile": CA, "verificationCertificateFile": VERIFICATION}},
        stack="iot",
    )
    assert (fleet.enabled, fleet.template_name, fleet.jitp_template_name, fleet.device_advisor) == (
        True, "plant_devices", "plant_devices-jitp", True)
    assert fleet.jitp.ca_certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert fleet.jitp.ca_certificate_pem != fleet.jitp.verification_certificate_pem


def test_a_json_string_is_read_as_pulumi_hands_structured_config():
    assert load_fleet_provisioning('{"enabled": true}', stack="iot").enabled


@pytest.mark.parametrize("value, match", [
    ("yes", r"fleetProvisioning 'yes' is not a map"),
    ({"enable": True}, r"fleetProvisioning has unknown key\(s\) enable"),
    ({"enabled": "sometimes"}, r"fleetProvisioning.enabled 'sometimes' is not true or false"),
    ({"templateName": "plant devices"}, r"fleetProvisioning.templateName 'plant devices' is not a provisioning template"),
    ({"templateName": "x" * 32}, r"fleetProvisioning.templateName 'x{32}' .* 1-31 letters"),
    ({"jitp": "on"}, r"fleetProvisioning.jitp 'on' is not a map"),
    ({"jitp": {"caCertificateFile": CA}}, r"fleetProvisioning.jitp.verificationCertificateFile is required"),
    ({"jitp": {"caCertificateFile": "../ca.pem", "verificationCertificateFile": VERIFICATION}},
     r"fleetProvisioning.jitp.caCertificateFile '../ca.pem' is not a relative path inside the project"),
    ({"jitp": {"caCertificateFile": "certs/missing.pem", "verificationCertificateFile": VERIFICATION}},
     r"fleetProvisioning.jitp.caCertificateFile 'certs/missing.pem' cannot be read"),
    ({"jitp": {"caCertificateFile": "README.md", "verificationCertificateFile": VERIFICATION}},
     r"fleetProvisioning.jitp.caCertificateFile contains text that is not a PEM certificate"),
    ({"jitp": {"caCertificateFile": "certs/amazon-trust-roots.pem", "verificationCertificateFile": VERIFICATION}},
     r"holds \d+ certificates — RegisterCACertificate takes exactly one"),
    ({"jitp": {"caCertificateFile": CA, "verificationCertificateFile": CA}},
     r"verificationCertificateFile is the CA certificate itself"),
    ({"deviceAdvisor": 1}, r"fleetProvisioning.deviceAdvisor 1 is not true or false"),
])
def test_refusals_name_the_key_and_the_fix(value, match):
    with pytest.raises(ConfigError, match=match):
        load_fleet_provisioning(value, stack="iot")


def test_names_follow_aws_rules_for_any_stack_name():
    name = default_template_name("plant.west/α" + "x" * 60)
    assert len(name) <= 31 and all(c.isalnum() or c in "_-" for c in name)
    assert allow_list_table_name("iot") == "mqtt-provisioning-allow-list-iot"
