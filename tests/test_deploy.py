"""The sample production layout in deploy/ (README, "Production layout") is parsed and checked against the
settings config.py reads: a variable the app would ignore, a missing part or a wrong proxy count fails here."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import yaml

from config import Config, ProductionConfig, _database_url

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
APP_SERVICES = ("web-a", "web-b", "worker")


def settings_read_by_config() -> set[str]:
    text = (ROOT / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'_(?:env|bool|int)\(\s*"([A-Z0-9_]+)"', text))


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _substitute(value: str) -> str:
    """${NAME:?…} / ${NAME:-default} / ${NAME} as compose would, with made-up secrets."""
    return re.sub(r"\$\{([A-Z0-9_]+)(?::[?-][^}]*)?\}", lambda m: secrets.token_urlsafe(36), str(value))


def test_compose_has_every_part_of_the_layout():
    services = compose()["services"]
    assert {"nginx", "web-a", "web-b", "worker", "postgres", "postgres-replica", "redis", "minio"} <= set(services)
    for name in ("web-a", "web-b"):
        command = services[name]["command"]
        assert command.startswith("gunicorn ") and command.endswith(" wsgi:app") and "--no-control-socket" in command
    assert services["worker"]["command"].startswith("flask worker")


def test_every_app_variable_is_a_setting_config_py_reads():
    known = settings_read_by_config()
    for name in APP_SERVICES:
        env = compose()["services"][name]["environment"]
        unknown = sorted(set(env) - known)
        assert unknown == [], f"{name}: variables config.py never reads: {unknown}"
        assert {"MARKETPLACE_ENV", "SECRET_KEY", "DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "MEDIA_STORAGE",
                "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO"} <= set(env)
        assert env["SEARCH_BACKEND"] == "postgres"  # the Whoosh folder is for one host


def test_compose_environment_passes_production_validation():
    env = {k: _substitute(v) for k, v in compose()["services"]["web-a"]["environment"].items()}
    assert env["MARKETPLACE_ENV"] == "production" and env["MEDIA_STORAGE"] == "s3"
    config = {"SECRET_KEY": env["SECRET_KEY"], "SQLALCHEMY_DATABASE_URI": _database_url(env["DATABASE_URL"]),
              **{k: env.get(k) for k in ("MEDIA_STORAGE", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")}}
    ProductionConfig.validate(config)  # raises on a weak secret, SQLite, or an incomplete bucket


def test_nginx_sets_exactly_the_headers_proxy_fix_trusts():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    env = compose()["services"]["web-a"]["environment"]
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # one proxy → PROXY_FIX_X_FOR=1
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert env["PROXY_FIX_X_FOR"] == "1" and env["PROXY_FIX_X_PROTO"] == "1"
    assert "location /static/" in conf and "location /photos/originals/ { return 404; }" in conf
    upstreams = re.findall(r"server (web-[ab]):8000", conf)
    assert upstreams == ["web-a", "web-b"]
    body = re.search(r"client_max_body_size (\d+)m;", conf)
    assert body and int(body.group(1)) * 1024 * 1024 >= Config.MAX_CONTENT_LENGTH
    assert env["MEDIA_PUBLIC_URL"].endswith("/photos/")


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit: sections of (key, value) lines (keys such as Environment repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), [])
            continue
        assert current is not None and "=" in line, f"not a unit line: {raw!r}"
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def test_systemd_unit_parses_and_sets_only_real_settings():
    unit = parse_unit((DEPLOY / "cholangnghe-web@.service").read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Service", "Install"}
    service = dict(unit["Service"])
    assert "gunicorn" in service["ExecStart"] and service["ExecStart"].endswith(" wsgi:app")
    assert "--bind 127.0.0.1:%i" in service["ExecStart"] and "--no-control-socket" in service["ExecStart"]
    names = {value.split("=", 1)[0] for key, value in unit["Service"] if key == "Environment"}
    assert names and names <= settings_read_by_config()
