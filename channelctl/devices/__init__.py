"""`channelctl devices`: the device credentials in the authorizer's table — add, import, rotate, unlock, migrate."""
