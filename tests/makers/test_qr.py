"""Provenance QR: the short code, the scan counter, the redirect after a title/slug change, the label sheets
(PDF rasterised and decoded with a real QR decoder, then followed), the print page, the village poster and
the provenance panel."""
from __future__ import annotations

import re
import threading
from datetime import date

import pypdfium2
import sqlalchemy as sa
from PIL import Image, ImageDraw

from marketplace.accounts.models import Role
from marketplace.catalog.models import ClaimStatus, Product, ProductStatus
from marketplace.extensions import db
from marketplace.makers import codes
from marketplace.makers.models import Maker, QrScan
from tests.factories import make_ip, make_product, make_shop, make_user
from tests.makers.helpers import crop_label, decode_all, path_of, pdf_pages


def scans(product_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(QrScan.scans).where(QrScan.product_id == product_id)) or 0


def test_codes_round_trip_and_refuse_typos():
    for product_id in (1, 31, 32, 1000, 123456, 2**31 - 1):
        code = codes.encode(product_id)
        assert codes.decode(code) == product_id and codes.decode(code.lower()) == product_id
    code = codes.encode(1234)
    typo = code[:-2] + ("1" if code[-2] != "1" else "2") + code[-1]
    assert codes.decode(typo) is None  # the check symbol catches a changed symbol
    assert codes.decode("0" + code) is None  # one spelling per product
    assert codes.decode("") is None and codes.decode("!!!!!") is None and codes.decode("Z" * 20) is None
    assert codes.decode(code.replace("0", "O")) == 1234  # Crockford: O reads as 0


def test_scan_counts_and_redirects_after_title_change(client, shop):
    product = make_product(shop=shop, title_vi="Bình gốm men rạn")
    db.session.commit()
    code = codes.encode(product.id)
    response = client.get(f"/q/{code}")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == f"/products/{product.id}-binh-gom-men-ran"  # the canonical URL
    assert scans(product.id) == 1
    product = db.session.get(Product, product.id)
    product.title_vi = "Bình gốm men rạn cổ, tên mới"
    db.session.commit()
    followed = client.get(f"/q/{code.lower()}", follow_redirects=True)
    assert followed.status_code == 200 and "Bình gốm men rạn cổ, tên mới" in followed.get_data(as_text=True)
    assert followed.request.path == f"/products/{product.id}-binh-gom-men-ran-co-ten-moi"  # the new slug
    assert scans(product.id) == 2


def test_unknown_hidden_and_mistyped_codes_are_404_and_count_nothing(client, shop):
    draft = make_product(shop=shop, status=ProductStatus.DRAFT)
    db.session.commit()
    assert client.get(f"/q/{codes.encode(draft.id)}").status_code == 404
    assert client.get(f"/q/{codes.encode(999_999)}").status_code == 404
    assert client.get("/q/not-a-code").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QrScan)) == 0


def test_concurrent_scans_are_all_counted(app, shop):
    product = make_product(shop=shop)
    db.session.commit()
    code, n = codes.encode(product.id), 12
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def scan():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.get(f"/q/{code}").status_code)

    threads = [threading.Thread(target=scan) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * n
    assert scans(product.id) == n


def _labelled_product(shop):
    maker = Maker(shop_id=shop.id, name="Lê Văn Minh", honour_title="nghe_nhan_uu_tu", honour_decision="QĐ 1/QĐ-CTN")
    db.session.add(maker)
    db.session.flush()
    product = make_product(shop=shop, title_vi="Lọ hoa men lam vẽ tay", maker_id=maker.id, ocop_stars=4,
                           ocop_issued_on=date.today())
    pending = make_product(shop=shop, title_vi="Đĩa men nâu", ocop_stars=5, ocop_issued_on=date.today(),
                           ocop_status=ClaimStatus.DECLARED)
    db.session.commit()
    return product, pending


def test_product_label_sheet_pdf_decodes_and_lands_on_the_product(seller, shop, client):
    product, _pending = _labelled_product(shop)
    response = seller.get(f"/seller/products/{product.id}/labels.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pdf_pages(response.data)
    assert len(pages) == 1
    assert abs(pages[0].width / pages[0].height - 210 / 297) < 0.01  # A4
    found = decode_all(pages[0])
    assert len(found) == 24 and set(found) == {f"http://localhost/q/{codes.encode(product.id)}"}
    landed = client.get(path_of(found[0]), follow_redirects=True)
    assert landed.status_code == 200 and landed.request.path == f"/products/{product.id}-{product.slug}"
    assert "Lọ hoa men lam vẽ tay" in landed.get_data(as_text=True)
    assert scans(product.id) == 1


def test_shop_label_sheet_pdf_has_one_label_per_product_in_order(seller, shop, app):
    products = [make_product(shop=shop, title_vi=f"Sản phẩm số {n}") for n in range(26)]
    make_product(shop=shop, status=ProductStatus.ARCHIVED)
    db.session.commit()
    response = seller.get("/seller/labels/sheet.pdf")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    assert len(pages) == 2  # 26 labels: 24 + 2
    assert decode_all(crop_label(pages[0], 0)) == [f"http://localhost/q/{codes.encode(products[0].id)}"]
    assert decode_all(crop_label(pages[0], 23)) == [f"http://localhost/q/{codes.encode(products[23].id)}"]
    assert decode_all(crop_label(pages[1], 1)) == [f"http://localhost/q/{codes.encode(products[25].id)}"]
    assert decode_all(crop_label(pages[1], 2)) == []  # the rest of the sheet is blank


def test_label_text_in_pdf(seller, shop):
    product, pending = _labelled_product(shop)
    for pid, expect, refuse in ((product.id, ["Lọ hoa men lam vẽ tay", "Nghệ nhân Ưu tú Lê Văn Minh", "OCOP ★★★★"],
                                 ["₫"]),
                                (pending.id, ["Đĩa men nâu"], ["OCOP"])):
        data = seller.get(f"/seller/products/{pid}/labels.pdf").data
        pdf = pypdfium2.PdfDocument(data)
        text = " ".join(pdf[0].get_textpage().get_text_range().split())
        pdf.close()
        for word in expect + [shop.village.name_vi, codes.encode(pid)]:
            assert word in text, word
        for word in refuse:
            assert word not in text, word  # no price unless asked; OCOP only when verified
    data = seller.get(f"/seller/products/{product.id}/labels.pdf?price=1").data
    pdf = pypdfium2.PdfDocument(data)
    assert "350.000 ₫" in pdf[0].get_textpage().get_text_range()
    pdf.close()


def test_print_page_has_24_labels_with_decodable_svg(seller, shop):
    product, _pending = _labelled_product(shop)
    response = seller.get(f"/seller/products/{product.id}/labels")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count(f'data-product="{product.id}"') == 24
    assert "Lọ hoa men lam vẽ tay" in page and "OCOP ★★★★" in page and codes.encode(product.id) in page
    assert 'href="/static/css/labels.css"' in page and "<style" not in page  # the CSP allows no inline style
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert decode_all(_svg_to_image(svg)) == [f"http://localhost/q/{codes.encode(product.id)}"]
    shop_page = seller.get("/seller/labels/sheet").get_data(as_text=True)
    assert shop_page.count('class="label"') == 2


def _svg_to_image(svg: str):
    """Render segno's path-based SVG (one horizontal line per run of dark modules) to pixels."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = 0.0
    for op, args in re.findall(r"([MmHhVv])([-\d. ]+)", path):
        numbers = [float(v) for v in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif op == "h":
            draw.rectangle([x * scale, (y - 0.5) * scale, (x + numbers[0]) * scale - 1, (y + 0.5) * scale - 1], fill=0)
            x += numbers[0]
    return image


def test_village_poster(seller, shop, client):
    response = seller.get("/seller/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    (page,) = pdf_pages(response.data, scale=150 / 72)
    (url,) = decode_all(page)
    assert path_of(url) == f"/villages/{shop.village.slug}"
    assert client.get(path_of(url)).status_code == 200


def test_labels_belong_to_the_shop(seller, shop, other_shop):
    theirs = db.session.scalar(sa.select(Product).where(Product.shop_id == other_shop.id))
    assert seller.get(f"/seller/products/{theirs.id}/labels.pdf").status_code == 404
    assert seller.get(f"/seller/products/{theirs.id}/labels").status_code == 404
    page = seller.get("/seller/labels").get_data(as_text=True)
    assert codes.encode(theirs.id) not in page
    assert seller.get(f"/seller/labels/sheet.pdf?shop={other_shop.id}").status_code == 404


def test_labels_page_shows_scan_counts(seller, shop, client):
    product = make_product(shop=shop)
    db.session.commit()
    for _ in range(3):
        client.get(f"/q/{codes.encode(product.id)}")
    page = seller.get("/seller/labels").get_data(as_text=True)
    assert re.search(rf'data-product="{product.id}">\s*3\s*<', page)


def test_shopper_cannot_print(client, login, shop):
    login(client, make_user(Role.SHOPPER))
    db.session.commit()
    assert client.get("/seller/labels/sheet.pdf").status_code == 403
    assert client.get("/seller/poster.pdf").status_code == 403


def test_provenance_panel(client, shop):
    maker = Maker(shop_id=shop.id, name="Hoàng Văn Đức", honour_title="nghe_nhan_nhan_dan",
                  honour_decision="QĐ 2/QĐ-CTN", years_in_craft=50)
    db.session.add(maker)
    db.session.flush()
    ip = shop.village.ip_protections[0]  # verified (the seller fixture's village mark)
    verified = make_product(shop=shop, maker_id=maker.id, materials="Đất sét trắng, men lam",
                            technique="Vuốt tay trên bàn xoay", ocop_stars=4, ocop_issued_on=date.today(),
                            ip_protection_id=ip.id)
    declared_ip = make_ip(shop.village, status=ClaimStatus.DECLARED, name="Nhãn hiệu đang khai")
    pending = make_product(shop=shop, ocop_stars=3, ocop_issued_on=date.today(), ocop_status=ClaimStatus.DECLARED,
                           ip_protection_id=declared_ip.id)
    db.session.commit()

    def panel(product_id: int) -> str:
        page = client.get(f"/products/{product_id}", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'<section class="provenance".*?</section>', page, re.S)
        assert match, "no provenance panel"
        return re.sub(r"\s+", " ", match.group(0))

    text = panel(verified.id)
    assert shop.village.name_vi in text and f'href="/makers/{maker.id}"' in text
    assert "Nghệ nhân Nhân dân" in text and "50 năm trong nghề" in text
    assert "Đất sét trắng, men lam" in text and "Vuốt tay trên bàn xoay" in text
    ocop = re.search(r'class="provenance-ocop">(.*?)</dd>', text).group(1)
    assert "4★" in ocop and "đã xác minh" in ocop
    ipdd = re.search(r'class="provenance-ip">(.*?)</dd>', text).group(1)
    assert ip.name in ipdd and "đã xác minh" in ipdd
    assert codes.encode(verified.id) in text

    text = panel(pending.id)
    ocop = re.search(r'class="provenance-ocop">(.*?)</dd>', text).group(1)
    assert "3★" in ocop and "đang chờ xác minh" in ocop and "đã xác minh" not in ocop
    ipdd = re.search(r'class="provenance-ip">(.*?)</dd>', text).group(1)
    assert "Nhãn hiệu đang khai" in ipdd and "đang chờ xác minh" in ipdd
    assert "cửa hàng chưa ghi tên nghệ nhân" in text


def test_label_omits_ocop_without_certificate(seller, shop):
    product = make_product(shop=shop, title_vi="Khay sơn mài")
    db.session.commit()
    page = seller.get(f"/seller/products/{product.id}/labels").get_data(as_text=True)
    assert "Khay sơn mài" in page and "OCOP" not in page


def test_suspended_shops_products_do_not_resolve(client):
    shop = make_shop(status="suspended")
    product = make_product(shop=shop)
    db.session.commit()
    assert client.get(f"/q/{codes.encode(product.id)}").status_code == 404
