"""Secrets from the environment: the variable NAME, or the file named by NAME_FILE. Django-free.

NAME_FILE wins when set (container secrets are files); its content is stripped of surrounding
whitespace (files end with a newline). NAME itself is used exactly as set. A secret is never
logged: the one error here names the variable and the path, never what the file holds.
config/settings.py reads its secrets through this too (it imports nothing of Django from here).
"""

from __future__ import annotations

import os
from pathlib import Path


class SecretFileError(OSError):
    """NAME_FILE names a file that cannot be read."""

    def __init__(self, variable: str, why: str) -> None:
        super().__init__(f"{variable}: {why}")
        self.variable = variable  # e.g. GITHUB_WEBHOOK_SECRET_FILE
        self.why = why  # e.g. cannot read /run/secrets/x: No such file or directory


def read_secret(name: str, default: str = "") -> str:
    """The secret in $NAME, or the stripped content of the file named by $NAME_FILE; default when
    neither is set (or name is empty). Raises SecretFileError when NAME_FILE cannot be read."""
    if not name:
        return default
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise SecretFileError(f"{name}_FILE", f"cannot read {path}: {exc.strerror}") from None
    return os.environ.get(name, default)
