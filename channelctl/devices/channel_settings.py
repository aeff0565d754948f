"""The iot stack's authorizer settings that `channelctl devices` must honour.

The authorizer applies the stack's ``authorizer.familyTopicPrefixes``,
``thingTopicPrefix`` and ``authorizer.memorySize`` (its CPU share, so the hash
cost ceiling) to every CONNECT, and devices reach it on the ports of the
stack's ``deviceAccess.families``; the credential tools refuse up front what the
authorizer would deny or no port serves, so they read the same values from the stack's file
(``--stack``/``$CHANNELCTL_STACK``, in ``--cwd``/the current directory).
Without a stack they use the configuration's defaults, which is what the
authorizer uses when the keys are not set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from channelctl.devices.credentials_errors import ConfigError

STACK_VARIABLE = "CHANNELCTL_STACK"


@dataclass(frozen=True)
class ChannelSettings:
    family_topic_prefixes: Mapping[str, str] = field(default_factory=dict)
    thing_topic_prefix: str = "things"
    memory_size: int = 1024  # authorizer.memorySize's default (components/config/)
    source: str = "the configuration's defaults"
    # The device families the stack serves (``deviceAccess.families``: each has its own port on the
    # NLB); None when they cannot be known: no stack, no deviceAccess, or mode direct (any family
    # reaches the custom domain on 443).
    families: tuple[str, ...] | None = None


def load_channel_settings(stack: str | None, directory: str | None) -> ChannelSettings:
    from components.config import AuthorizerConfig, ConfigError as StackConfigError, IotConfig, load_config
    from channelctl.project import ProjectError, load_project

    stack = stack or os.environ.get(STACK_VARIABLE) or None
    if stack is None:
        defaults = AuthorizerConfig()
        return ChannelSettings(memory_size=defaults.memory_size)
    try:
        project = load_project(Path(directory or "."), [stack])
        stack_file = project.stacks[stack]
        config = load_config(stack_file.config, stack=stack)
    except (ProjectError, StackConfigError) as err:
        raise ConfigError(f"--stack {stack}: {err}") from None
    if not isinstance(config, IotConfig):
        raise ConfigError(f"--stack {stack} is a {stack_file.role} stack — name the iot stack that holds the authorizer")
    access = config.device_access
    return ChannelSettings(
        family_topic_prefixes=dict(config.authorizer.family_topic_prefixes),
        thing_topic_prefix=config.thing_topic_prefix,
        memory_size=config.authorizer.memory_size,
        source=f"stack {stack} ({stack_file.path.name})",
        families=tuple(f.name for f in access.families) if access is not None and access.families else None,
    )
