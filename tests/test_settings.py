"""Settings come from PHONGHOP_* variables; the secret key is made once and kept."""

from __future__ import annotations

import pytest

from server.settings import Settings


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONGHOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PHONGHOP_SECRET_KEY", raising=False)
    first = Settings.from_env().secret_key
    assert len(first) >= 32
    assert Settings.from_env().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONGHOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHONGHOP_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PHONGHOP_ARGON2_MEMORY_KIB", "65536")
    monkeypatch.setenv("PHONGHOP_ALLOWED_ORIGINS", "https://hop.example.gov.vn, https://b.example")
    settings = Settings.from_env(port=9000)
    assert settings.secret_key == "k" * 40
    assert settings.argon2_memory_kib == 65536
    assert settings.allowed_origins == ["https://hop.example.gov.vn", "https://b.example"]
    assert settings.port == 9000
    assert settings.database_url == f"sqlite:///{tmp_path / 'phonghop.db'}"


def test_a_bad_number_stops_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONGHOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHONGHOP_PORT", "tám nghìn")
    with pytest.raises(SystemExit, match="PHONGHOP_PORT must be an integer"):
        Settings.from_env()
