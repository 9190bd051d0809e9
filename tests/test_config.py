import pytest

import config
from marketplace import create_app


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
