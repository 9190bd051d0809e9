"""Drill: the search index is corrupted (garbage written over its files) or missing (its folder deleted) while
the site is serving.

Search answers without a server error (results, or "search is unavailable"), every other page is served, and
`flask search check` reports the problem; `flask search reindex` repairs it, and the running site finds the
products again without a restart.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.drills.conftest import make_catalog

pytestmark = [pytest.mark.drill, pytest.mark.postgres]

QUERY = "/search?q=g%E1%BB%91m+men+lam"  # "gốm men lam"
TITLE = "Bình gốm men lam"


def _garble(folder: Path) -> int:
    files = [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        path.write_bytes(os.urandom(max(64, path.stat().st_size)))
    return len(files)


def _search_answers_without_error(site, catalog) -> str:
    response = site.get(QUERY)
    # a broken or missing index is an engine failure: 503 "search is down for now", never a 500 and never an
    # empty result that would read as "nothing matches" (DEVELOPERS.md, search internals)
    assert response.status_code == 503, response.status_code
    assert "Tìm kiếm tạm thời không hoạt động" in response.text and TITLE not in response.text
    for path in ("/", catalog.product_paths[0], "/products"):
        assert site.get(path).status_code == 200, path
    return response.text


def _repair(site) -> None:
    check = site.flask("search", "check")
    assert check.returncode != 0, check.stdout  # the damage is reported
    reindex = site.flask("search", "reindex")
    assert reindex.returncode == 0, reindex.stdout + reindex.stderr
    assert "3 products" in reindex.stdout
    check = site.flask("search", "check")
    assert check.returncode == 0 and "OK" in check.stdout, check.stdout + check.stderr
    found = site.get(QUERY)  # the running site reads the rebuilt index
    assert found.status_code == 200 and TITLE in found.text


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_damaged_search_index_is_reported_and_repaired(drill, serve, damage):
    catalog = make_catalog()  # indexed as it is saved
    site = serve(drill)
    assert TITLE in site.get(QUERY).text
    index_dir = drill.data_dir / "search-index"
    if damage == "garbage":
        assert _garble(index_dir) > 0
    else:
        shutil.rmtree(index_dir)
    _search_answers_without_error(site, catalog)
    _repair(site)
