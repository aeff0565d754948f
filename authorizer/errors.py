"""Every way an authorization can fail; the handler turns each into a deny.

Each failure has its own class so the deny log line names the reason without
ever carrying the password, the hash or the raw event.
"""

from __future__ import annotations


class AuthorizerError(Exception):
    """Base of every failure that ends in a deny."""


# --- configuration -----------------------------------------------------------


class SettingsError(AuthorizerError):
    """An environment variable of the function is missing or invalid."""


# --- the request -------------------------------------------------------------


class MalformedEvent(AuthorizerError):
    """The event lacks a field the decision needs, or a field has the wrong shape."""


class InvalidUsername(AuthorizerError):
    """The MQTT user name is outside the character set the policies can hold safely."""


# --- the credential record ---------------------------------------------------


class CredentialStoreUnavailable(AuthorizerError):
    """The credentials table could not be read."""


class MalformedRecord(AuthorizerError):
    """The device's record in the credentials table does not follow the schema."""


class HashFormatError(AuthorizerError):
    """A password hash string is not in a supported, well-formed format."""


class UnsupportedHashFormat(HashFormatError):
    """A password hash uses a scheme the standard library cannot verify (e.g. argon2id)."""


class HashTooCostly(HashFormatError):
    """Verifying the hash would cost more than one CONNECT may (authorizer.cost)."""


# --- the decision ------------------------------------------------------------


class UnknownDevice(AuthorizerError):
    """No record exists for the user name."""


class MissingPassword(AuthorizerError):
    """The CONNECT carried no password."""


class WrongPassword(AuthorizerError):
    """The password does not match the stored hash."""


class LockedOut(AuthorizerError):
    """Too many wrong passwords for this user name lately: locked until its lockout ends."""


class DeviceDisabled(AuthorizerError):
    """The device's record is disabled."""


class DeviceProhibited(AuthorizerError):
    """The device is on the deny list."""


class DeviceRetired(AuthorizerError):
    """The device moved to its certificate: its password record is retired."""


class CredentialExpired(AuthorizerError):
    """The record's valid-until moment has passed."""


class OutsideAccessWindow(AuthorizerError):
    """The connection falls outside the device's allowed days or hours."""


class ClientIdMismatch(AuthorizerError):
    """The MQTT client ID is missing or is not the device's own."""


class UnsafeResource(AuthorizerError):
    """A value placed into a policy ARN could widen the policy (wildcard, variable, separator)."""


class TopicScopeOverlap(UnsafeResource):
    """The device's family prefix overlaps another family's or the certificate devices' topic prefix."""


class PolicyTooLarge(AuthorizerError):
    """The device's statements do not fit into the policy documents IoT Core accepts."""


class InvalidResponse(AuthorizerError):
    """The response would break an IoT Core limit (principal id, sizes, durations)."""
