"""private-mqtt-channel: one program, three stack roles.

Reads the stack's typed config, builds the stack's one explicit provider,
reads what upstream stacks have exported, builds the role's ONE top
component and exports the cross-stack contract (README, "Cross-stack contract").
"""

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from components.config import PROJECT, ConfigError, load_config
from components.stacks import build_stack


def _project_config() -> dict[str, str]:
    prefix = f"{PROJECT}:"
    merged = {**get_config_env(), **CONFIG.get()}
    return {key[len(prefix):]: value for key, value in merged.items() if key.startswith(prefix)}


try:
    config = load_config(_project_config(), stack=pulumi.get_stack())
    exports = build_stack(config)
except ConfigError as exc:
    # RunError: Pulumi prints the message alone, without a Python traceback.
    raise pulumi.RunError(f"configuration error: {exc}") from None

for key, value in exports.items():
    pulumi.export(key, value)
