"""The demo catalogue a person believes: workshop names and titles without numbering or filler, every title
distinct within its village, pictures drawn as their titles say, and social proof (reviews, replies, sold
counts) on delivered demo orders. Photos themselves: tests/demo/test_seed.py (with photos)."""
from __future__ import annotations

import re
from collections import Counter

import sqlalchemy as sa
from PIL import ImageStat

from marketplace.catalog.models import CraftVillage, Product
from marketplace.demo import looks
from marketplace.demo.drawing import draw_product_image
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderLine, OrderStatus, Review
from marketplace.shops.models import Shop

FORBIDDEN = [
    re.compile(r"\b[Ll]àng [Ll]àng\b"),   # "làng Làng Chuông"
    re.compile(r"mẫu mới|bản đặc biệt|new design|special edition", re.I),  # filler to make titles differ
    re.compile(r"\s\d+$"),                # "Bát Tràng 4"
    re.compile(r"\)\s*$"),                # "(Phương Trung)" glued to a title
]


def test_names_and_titles_sound_like_real_workshops(demo_app):
    rows = db.session.execute(sa.select(Product.title_vi, Product.title_en, Shop.village_id)
                              .join(Shop, Shop.id == Product.shop_id)).all()
    assert len(rows) >= 300
    per_village = Counter((title, village) for title, _, village in rows)
    assert [k for k, n in per_village.items() if n > 1] == []  # every title distinct within its village
    texts = [t for title_vi, title_en, _ in rows for t in (title_vi, title_en or "")]
    shops = db.session.execute(sa.select(Shop.name, Shop.maker_name, Shop.story)).all()
    texts += [t for row in shops for t in row if t]
    texts += list(db.session.scalars(sa.select(Product.description_vi)))
    bad = [t for t in texts for rule in FORBIDDEN if rule.search(t)]
    assert bad == []
    names = [name for name, _, _ in shops]
    assert len(set(names)) == len(names) and len({m for _, m, _ in shops}) == len(shops)  # one maker per shop
    chuong = db.session.scalar(sa.select(CraftVillage).where(CraftVillage.slug == "chuong"))
    hats = db.session.scalars(sa.select(Product.title_vi).join(Shop).where(Shop.village_id == chuong.id)).all()
    assert hats and all(t.endswith("làng Chuông") for t in hats)


def test_demo_reviews_with_ratings_replies_and_counters(demo_app):
    n, replied = db.session.execute(sa.select(sa.func.count(Review.id), sa.func.count(Review.reply))).one()
    assert n >= 200 and 0 < replied < n
    # only on delivered orders, once per product per order, by the products of those orders
    bad = db.session.scalar(sa.select(sa.func.count(Review.id)).join(Order, Order.id == Review.order_id)
                            .where(Order.status.not_in(OrderStatus.DELIVERED_STATES)))
    assert bad == 0
    assert {r for (r,) in db.session.execute(sa.select(Review.rating).distinct())} <= {1, 2, 3, 4, 5}
    # the stored counters agree with the rows (hand-computed for the most reviewed product)
    pid, count, stars = db.session.execute(
        sa.select(Review.product_id, sa.func.count(), sa.func.sum(Review.rating)).group_by(Review.product_id)
        .order_by(sa.func.count().desc(), Review.product_id).limit(1)).one()
    product = db.session.get(Product, pid)
    assert (product.rating_count, product.rating_sum) == (count, stars)
    sold = db.session.scalar(sa.select(sa.func.sum(OrderLine.quantity)).join(Order)
                             .where(OrderLine.product_id == pid, Order.status.in_(OrderStatus.DELIVERED_STATES)))
    assert product.sold_count == sold > 0
    client = demo_app.test_client()
    page = client.get(f"/products/{pid}", follow_redirects=True).get_data(as_text=True)
    assert f"{count} đánh giá" in page and f"đã bán {sold}" in page
    shop_page = client.get(f"/shops/{product.shop.slug}").get_data(as_text=True)
    assert "Tỉ lệ phản hồi đánh giá" in shop_page


def test_pictures_show_what_titles_and_variants_name():
    # the complaints of the issue: each title now chooses drawings that show it
    assert all(looks.tags("vase", v)["glaze"] == "blue_white" for v in looks.choose("vase", "Bình gốm hoa lam vẽ tay"))
    assert {(looks.tags("bowl", v)["glaze"], looks.tags("bowl", v)["shape"])
            for v in looks.choose("bowl", "Bộ ấm chén men ngọc")} == {("celadon", "teapot")}
    assert {looks.tags("bowl", v)["shape"] for v in looks.choose("bowl", "Bát hương gốm men rạn")} == {"bowl"}
    assert {looks.tags("silk", v)["colour"] for v in looks.choose("silk", "Khăn lụa tơ tằm xanh chàm")} == {"indigo"}
    assert {looks.tags("plate", v)["motif"] for v in looks.choose("plate", "Đĩa trang trí vẽ cá chép")} == {"fish"}
    # a close-up and the other side are other pictures than the whole object, every time
    for kind in ("vase", "silk", "conical_hat"):
        shots = {draw_product_image(kind, 1, size=48, view=view).tobytes() for view in (0, 1, 2)}
        assert len(shots) == 3
    # an indigo scarf is drawn bluer than a vermilion one
    def mean(image):
        return ImageStat.Stat(image.crop((16, 16, 48, 40))).mean
    indigo = mean(draw_product_image("silk", looks.choose("silk", "xanh chàm")[0], size=64))
    red = mean(draw_product_image("silk", looks.choose("silk", "đỏ son")[0], size=64))
    assert indigo[2] - indigo[0] > red[2] - red[0]
