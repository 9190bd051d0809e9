"""Village pages draw a static SVG map from the stored coordinates (no script, no tiles, no external URL), and
say where the village is today (post-2025 commune) with the former district as history."""
from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.catalog.hanoi import UNITS, inside_hanoi
from marketplace.catalog.maps import HEIGHT, WIDTH, project, village_map_svg
from marketplace.catalog.models import CraftVillage
from marketplace.demo.seed import village_rows
from marketplace.extensions import db
from tests.factories import make_village


def test_map_marks_the_village_and_fetches_nothing(app, client):
    make_village(slug="co-toa-do", name_vi="Làng <Gốm>", latitude=20.9766, longitude=105.9137,
                 commune_vi="xã Bát Tràng", former_district_vi="huyện Gia Lâm")
    make_village(slug="khong-toa-do")
    db.session.commit()
    html = client.get("/villages/co-toa-do").get_data(as_text=True)
    svg = re.search(r'<svg class="village-map".*?</svg>', html, re.S).group(0)
    x, y = project(20.9766, 105.9137)
    assert f'cx="{x}" cy="{y}"' in svg and "Làng &lt;Gốm&gt;" in svg
    assert "<script" not in svg and "href" not in svg and "http://www.w3.org/2000/svg" in svg
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]
    assert "style=" not in svg  # presentation attributes only: the CSP is unchanged
    assert "xã Bát Tràng" in html and "trước 01/07/2025 thuộc" in html and "huyện Gia Lâm" in html
    assert 'class="village-map"' not in client.get("/villages/khong-toa-do").get_data(as_text=True)


def test_every_point_of_hanoi_lands_inside_the_drawing():
    for lat, lon in ((20.50, 105.25), (21.45, 106.05), (21.0285, 105.8542)):
        x, y = project(lat, lon)
        assert -20 <= x <= WIDTH + 20 and -20 <= y <= HEIGHT + 20
    assert village_map_svg("x", None, None, title="t", centre_label="c") == ""


def test_demo_data_every_village_has_a_2025_commune_and_coordinates_in_hanoi():
    rows = village_rows()
    assert len(rows) == 59
    for row in rows:
        assert row["commune_vi"] in UNITS, row["slug"]
        assert not row["commune_vi"].startswith(("huyện", "quận", "thị xã", "thị trấn")), row["slug"]
        assert row["latitude"] and inside_hanoi(float(row["latitude"]), float(row["longitude"])), row["slug"]
        assert not row["former_district_vi"] or row["former_district_vi"].startswith(("huyện", "quận", "thị xã"))


def test_seeded_villages_show_commune_and_map(demo_app, demo_client):
    with demo_app.app_context():
        missing = db.session.scalar(sa.select(sa.func.count(CraftVillage.id)).where(
            sa.or_(CraftVillage.commune_vi.is_(None), CraftVillage.latitude.is_(None))))
        assert missing == 0
        slug = db.session.scalar(sa.select(CraftVillage.slug).where(CraftVillage.code == "kim-lan"))
    html = demo_client.get(f"/villages/{slug}").get_data(as_text=True)
    assert "xã Bát Tràng" in html and 'class="village-map"' in html
    guide = demo_client.get("/villages").get_data(as_text=True)
    assert "huyện Gia Lâm)" in guide and "(trước đây" in guide
