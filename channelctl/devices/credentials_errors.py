"""Failures of `channelctl devices`; each carries the exit code it ends with."""

from __future__ import annotations


class CredentialsError(Exception):
    """Base of every device-credential failure."""

    exit_code = 2


class ConfigError(CredentialsError):
    """Table, region or AWS access is not set up (exit 2)."""


class UsageError(CredentialsError):
    """An option or argument has a bad value (exit 2)."""


class PasswordInputError(CredentialsError):
    """The password could not be read, was empty, or the two prompts differed (exit 2)."""


class DeviceExists(CredentialsError):
    """`add` found a record for the user name already (exit 1)."""

    exit_code = 1


class DeviceNotFound(CredentialsError):
    """No record for the user name (exit 1)."""

    exit_code = 1


class ConcurrentChange(CredentialsError):
    """The record changed between read and write; nothing was overwritten (exit 1)."""

    exit_code = 1


class ImportRefused(CredentialsError):
    """The password file has refused lines and --skip-invalid was not given (exit 1)."""

    exit_code = 1


class ConditionNotMet(CredentialsError):
    """A conditional write's condition did not hold; callers turn it into one of the above."""

    exit_code = 1


class ScopeOverlap(CredentialsError):
    """The family's topic prefix overlaps another family's or the certificate things' (exit 1)."""

    exit_code = 1


class ClientIdTaken(CredentialsError):
    """Another record already connects with that client ID (exit 1)."""

    exit_code = 1


class HashWorkTooLarge(CredentialsError):
    """The table's hash schemes together would cost more per CONNECT than the ceiling (exit 1)."""

    exit_code = 1
