import re
from pathlib import Path

import pytest

import config
from marketplace import create_app

ROOT = Path(__file__).resolve().parent.parent


def test_testing_overrides_make_a_testing_app(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "SQLALCHEMY_DATABASE_URI": None})
    assert app.testing
    assert app.config["CONFIG_CLASS"] == "TestingConfig"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert str(tmp_path) in app.config["SQLALCHEMY_DATABASE_URI"]
    assert app.config["SEARCH_INDEX_DIR"].startswith(str(tmp_path))
    assert app.config["MEDIA_ROOT"].startswith(str(tmp_path))


def test_embedded_defaults_need_no_environment(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "SQLALCHEMY_DATABASE_URI": None})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'marketplace.sqlite'}"
    assert app.config["STRIPE_SECRET_KEY"] is None  # cash on delivery only


def _production(**overrides):
    class Prod(config.ProductionConfig):
        pass

    for key, value in overrides.items():
        setattr(Prod, key, value)
    return Prod


def test_production_refuses_default_secret_key(tmp_path):
    prod = _production(SECRET_KEY=config.DEV_SECRET_KEY, DATA_DIR=str(tmp_path),
                       SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@h/db")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(prod)


def test_production_refuses_sqlite(tmp_path):
    prod = _production(SECRET_KEY="x" * 40, DATA_DIR=str(tmp_path), SQLALCHEMY_DATABASE_URI=None)
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app(prod)


@pytest.mark.parametrize("weak", ["a" * 32, "abcdefgh" * 6, "short-but-random-9f3k"])
def test_production_refuses_weak_secret_keys(tmp_path, weak):
    prod = _production(SECRET_KEY=weak, DATA_DIR=str(tmp_path), SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@h/db")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(prod)


def test_production_starts_with_real_settings(tmp_path):
    prod = _production(SECRET_KEY="Jf8s-2kQp9Lz_x7Vb3Nc0Rt5Wy1Hg6Ud4Me", DATA_DIR=str(tmp_path),
                       SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@127.0.0.1:1/db")
    app = create_app(prod)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug


@pytest.mark.parametrize("raw, expected", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    (None, None),
])
def test_database_url_is_normalised(raw, expected):
    assert config._database_url(raw) == expected


def test_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="MARKETPLACE_ENV"):
        config.get_config("staging-typo")


# --- one source of settings: defaults live in config.py, call sites read config["X"] ----------------------

# Settings another area is moving into config.py in the same change (issue 11); drop once they are there.
PENDING = {"SEARCH_WRITE_TIMEOUT"}
_CONFIG_GET = re.compile(r"\b(?:config|cfg)\.get\(")
_CONFIG_KEY = re.compile(r"\b(?:config|cfg)\[\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*\]")


def _code_lines():
    for path in sorted((ROOT / "marketplace").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"{path.relative_to(ROOT)}:{number}", line


def test_call_sites_read_settings_without_a_default():
    """``config.get("X", default)`` would restate (or hide the absence of) a default config.py owns."""
    offenders = [f"{where}: {line.strip()}" for where, line in _code_lines()
                 if _CONFIG_GET.search(line) and not any(name in line for name in PENDING)]
    assert offenders == []


def test_every_setting_the_code_reads_exists(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "SQLALCHEMY_DATABASE_URI": None})
    used = {name for _, line in _code_lines() for name in _CONFIG_KEY.findall(line)}
    assert used, "the pattern found no setting"
    assert sorted(used - set(app.config)) == []


def _settings_in_config_py() -> set[str]:
    names = set(re.findall(r"_(?:env|int|bool)\(\s*\"([A-Z][A-Z0-9_]*)\"", (ROOT / "config.py").read_text()))
    for cls in config.CONFIGS.values():
        for klass in cls.__mro__:
            if klass is object:
                continue
            names.update(name for name in vars(klass) if name.isupper())
    return names


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in _settings_in_config_py() if f"`{name}`" not in readme)
    assert missing == [], "add a row to README.md's settings tables"

