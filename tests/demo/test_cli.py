"""``flask seed-demo``: loads the catalog and rebuilds the search index."""
from __future__ import annotations

from marketplace.demo import seed
from marketplace.search.services import search_products


def test_seed_demo_rebuilds_the_index(app, runner, monkeypatch):
    monkeypatch.setattr(seed, "seed_officials_demo", lambda **kw: "officials' history skipped (test)")
    result = runner.invoke(args=["seed-demo", "--no-images"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt:" in result.output
    assert search_products("gốm bát tràng").total > 10
