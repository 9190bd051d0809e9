"""Real-browser fixtures: the app on a real WSGI server (werkzeug, in a thread, 127.0.0.1, port 0) over a
seeded demo database with drawn photos, and Debian's Chromium driven by Playwright (headless, no sandbox).

Screenshots and downloads go to ``test-artifacts/browser/``. axe-core comes from ``tests/browser/node_modules``
(``npm ci`` runs when it is missing; package.json and package-lock.json are committed).
"""
from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from config import env_flag

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "lang-nghe-2030"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        if env_flag("CI"):
            pytest.fail("CI=true: /usr/bin/chromium is required for the browser tests (make test installs it)")
        pytest.skip("/usr/bin/chromium is not installed")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, chromium_path):
    """The seeded demo site, served by a real WSGI server in a thread. Yields its base URL."""
    from werkzeug.serving import make_server

    from marketplace.demo.seed import seed_demo
    from marketplace.extensions import db
    from tests.conftest import demo_password_hash, make_app

    base = tmp_path_factory.mktemp("live")
    app = make_app(base, "sqlite", WTF_CSRF_ENABLED=True, SITE_URL="http://127.0.0.1")
    with app.app_context():
        db.create_all()
        seed_demo(with_images=True, password_hash=demo_password_hash())
        db.session.commit()
        try:
            from marketplace.search import reindex_all
        except ImportError:  # pragma: no cover - search always exists now
            pass
        else:
            reindex_all()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class Console:
    """Console errors and CSP violations seen by a page (a CSP that breaks the site fails the test)."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(*, width: int = 1280, height: int = 900, javascript: bool = True, bypass_csp: bool = False):
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height},
                                      java_script_enabled=javascript, bypass_csp=bypass_csp, accept_downloads=True,
                                      locale="vi-VN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.console = Console(page)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/account/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert "/account/login" not in page.url, f"sign-in failed for {email}"


def shot(page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install axe-core (tests/browser/package.json)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=300)
    return AXE.read_text(encoding="utf-8")


def run_axe(page, axe_source: str) -> list[dict]:
    """Serious and critical violations on the current page (the page's context must bypass CSP)."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
