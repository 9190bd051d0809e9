"""A broken engine is "search is unavailable" (503, logged), never an empty result (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from marketplace.search import engine
from marketplace.search.services import search_products, suggest
from marketplace.search.vocabulary import SORTS, SearchUnavailable
from tests.factories import make_product

MESSAGE_VI = "Tìm kiếm tạm thời không hoạt động, vui lòng thử lại."
MESSAGE_EN = "Search is unavailable, please try again."


@pytest.fixture
def broken_engine(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(engine, "search", broken)
    monkeypatch.setattr(engine, "suggest_ids", broken)
    return app


def test_an_empty_index_is_an_empty_result_not_an_error(app):
    make_product(title_vi="Bình gốm men lam")  # flushed, not committed: not in the index
    for q in ("gốm", ""):
        for sort in SORTS:
            result = search_products(q, {"category": "ceramics", "ocop": 4, "price": "200k-500k"}, sort=sort)
            assert result.total == 0 and result.ids == []
            assert search_products(q, sort=sort).total == 0


def test_service_raises_and_logs(broken_engine, caplog):
    with pytest.raises(SearchUnavailable) as info:
        search_products("gốm bát tràng")
    assert info.value.status_code == 503 and info.value.code == "search_unavailable"
    assert info.value.message == MESSAGE_VI
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "search failed for 'gốm bát tràng'" in caplog.text
    with pytest.raises(SearchUnavailable):
        search_products("")  # the catalogue without a query goes through the engine too
    with pytest.raises(SearchUnavailable):
        suggest("gốm")
    assert "suggest failed" in caplog.text


def test_search_page_says_unavailable_in_both_languages(broken_engine, client):
    response = client.get("/search?q=gom")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert MESSAGE_VI in html
    assert "search-summary" not in html  # not the results page with "0 sản phẩm"
    response = client.get("/search?q=gom&lang=en")
    assert response.status_code == 503
    assert MESSAGE_EN in response.get_data(as_text=True)


def test_api_and_suggest_answer_503_json(broken_engine, client):
    response = client.get("/api/v1/products?q=gom")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["status"] == 503 and error["code"] == "search_unavailable" and error["message"] == MESSAGE_VI
    response = client.get("/api/v1/products?q=gom&lang=en")
    assert response.get_json()["error"]["message"] == MESSAGE_EN
    response = client.get("/search/suggest?q=gom", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "search_unavailable"
    assert "Cache-Control" not in response.headers or "max-age=60" not in response.headers["Cache-Control"]
