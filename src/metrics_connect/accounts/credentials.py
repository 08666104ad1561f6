"""Encryption at rest for integration credentials and webhook secrets (Fernet)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from metrics_connect.settings import Settings


class CredentialsKeyMissing(RuntimeError):
    pass


def load_or_create_key_file(path: Path) -> str:
    """The demo's key: created once (mode 0600) and reused on later starts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def resolve_key(settings: Settings) -> str:
    if settings.credentials_key:
        return settings.credentials_key
    if settings.credentials_key_file and settings.credentials_key_file.exists():
        return settings.credentials_key_file.read_text().strip()
    raise CredentialsKeyMissing(
        "Set METRICS_CONNECT_CREDENTIALS_KEY or METRICS_CONNECT_CREDENTIALS_KEY_FILE "
        "(generate one with: metrics-connect generate-key)"
    )


class Vault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode("ascii"))

    def encrypt_text(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def decrypt_text(self, blob: bytes) -> str:
        try:
            return self._fernet.decrypt(blob).decode("utf-8")
        except InvalidToken as exc:
            raise CredentialsKeyMissing("credentials cannot be decrypted with this key") from exc

    def encrypt_json(self, data: dict[str, Any]) -> bytes:
        return self.encrypt_text(json.dumps(data, separators=(",", ":")))

    def decrypt_json(self, blob: bytes) -> dict[str, Any]:
        value = json.loads(self.decrypt_text(blob))
        assert isinstance(value, dict)
        return value


@lru_cache(maxsize=8)
def vault_for_key(key: str) -> Vault:
    return Vault(key)
