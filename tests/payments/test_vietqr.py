"""VietQR bank transfer: the EMVCo payload (CRC-16/CCITT-FALSE), the transfer page and its QR image (decoded
with zxing-cpp), the signed bank webhook (exact match settles once, also 10× in parallel; bad signature,
wrong amount, unknown reference change nothing but the review list), statement uploads (preview, import,
re-upload changes nothing, per-row report), the admin's settle / refund / attach, and the stock hold."""
import hashlib
import hmac
import io
import json
import re
import threading
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from marketplace.catalog.models import Variant
from marketplace.core.outbox import read_outbox
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.orders.models import Checkout
from marketplace.payments import emvco, registry, vietqr
from marketplace.payments.models import BankTransaction, Refund
from marketplace.payments.statements import parse_statement
from tests.factories import make_user
from tests.orders.helpers import ADDRESS, add_to_cart, checkout_token, two_shop_products
from tests.payments.helpers import statuses

SECRET = "bank-hook-secret-0123456789abcdef"
BIN, ACCOUNT, NAME = "970436", "0011001234567", "CONG TY CHO LANG NGHE"


@pytest.fixture
def app_overrides():
    return {"VIETQR_BANK_BIN": BIN, "VIETQR_ACCOUNT_NUMBER": ACCOUNT, "VIETQR_ACCOUNT_NAME": NAME,
            "VIETQR_WEBHOOK_SECRET": SECRET}


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def qr_checkout(client, *variant_qty):
    for vid, qty in variant_qty:
        add_to_cart(client, vid, qty)
    token = checkout_token(client)
    r = client.post("/checkout", data={**ADDRESS, "token": token, "payment_method": "vietqr"})
    db.session.expire_all()
    return r, db.session.scalar(sa.select(Checkout).where(Checkout.token == token))


def post_transfer(client, txn_id, amount, description, secret=SECRET, when="2026-12-07T10:15:00+07:00", raw=None):
    body = raw if raw is not None else json.dumps({"transaction_id": txn_id, "amount": amount,
                                                   "description": description, "time": when}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/payments/vietqr/webhook", data=body, content_type="application/json",
                       headers={"X-Signature": signature})


def admin_client(client, login):
    admin = make_user("admin", email=f"admin-{id(client)}@example.vn")
    db.session.commit()
    login(client, admin)
    return admin


# --- the payload ------------------------------------------------------------------------------------

def test_crc_is_ccitt_false():
    assert emvco.crc16_ccitt_false(b"123456789") == 0x29B1  # the catalogue's check value


def test_payload_field_by_field():
    payload = emvco.build(bank_bin=BIN, account=ACCOUNT, amount=1_245_000, reference="CLN42ABCD")
    assert payload.startswith("000201010212")
    fields = emvco.parse(payload)
    assert fields["38"] == {"00": "A000000727", "01": {"00": BIN, "01": ACCOUNT}, "02": "QRIBFTTA"}
    assert (fields["53"], fields["54"], fields["58"], fields["62"]) == ("704", "1245000", "VN", {"08": "CLN42ABCD"})
    assert payload[-8:-4] == "6304"
    broken = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    with pytest.raises(emvco.PayloadError):
        emvco.parse(broken)
    with pytest.raises(emvco.PayloadError):
        emvco.build(bank_bin=BIN, account=ACCOUNT, amount=0, reference="X")
    with pytest.raises(emvco.PayloadError):
        emvco.build(bank_bin="97043", account=ACCOUNT, amount=1, reference="X")


def test_reference_is_found_in_what_banks_write(app):
    ref = vietqr.reference_for(123)
    assert ref.startswith("CLN123") and len(ref) == 10
    for text in (f"NGUYEN THI LAN chuyen tien {ref}", f"{ref.lower()} FT2634", f"MBVCB.123 {ref[:6]} {ref[6:]}.CT tu",
                 f"IBFT-{ref}-0912345678"):
        assert vietqr.find_reference(text) == (ref, 123), text
    assert vietqr.find_reference("CLN123AAAA") is None  # wrong check characters
    assert vietqr.find_reference("CLN124" + ref[6:]) is None
    assert vietqr.find_reference("") is None


# --- the page and the image ---------------------------------------------------------------------------

def test_transfer_page_shows_a_qr_that_decodes_to_the_exact_payment(client):
    vase, scarf = two_shop_products()
    r, checkout = qr_checkout(client, (vase.variants[0].id, 2), (scarf.variants[0].id, 1))
    assert r.status_code == 303 and "/payments/vietqr/" in r.headers["Location"]
    assert statuses(checkout) == ["pending_payment", "pending_payment"]
    assert checkout.hold_expires_at - checkout.created_at == timedelta(hours=24)
    ref = checkout.stripe_session_id
    assert ref == vietqr.reference_for(checkout.id)
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in (ref, ACCOUNT, NAME, "Vietcombank", str(checkout.total)):
        assert text in html
    assert "Content-Security-Policy" in page.headers and "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    image = client.get(r.headers["Location"] + "/qr.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    fields = emvco.parse(decoded[0].text)  # raises when the CRC does not match
    assert fields["00"] == "01" and fields["01"] == "12"
    assert fields["38"] == {"00": "A000000727", "01": {"00": BIN, "01": ACCOUNT}, "02": "QRIBFTTA"}
    assert fields["53"] == "704" and fields["54"] == str(checkout.total) and fields["58"] == "VN"
    assert fields["62"] == {"08": ref}
    assert fields["63"] == f"{emvco.crc16_ccitt_false(decoded[0].text[:-4].encode()):04X}"
    placed = [m for m in read_outbox() if "đã nhận đơn hàng" in m["Subject"]]
    assert len(placed) == 1 and "chuyển khoản đúng số tiền" in placed[0].get_content()
    assert "/orders/c/" in placed[0].get_content()
    assert client.get("/payments/vietqr/pay/not-a-token").status_code == 404
    assert client.get("/payments/vietqr/pay/not-a-token/qr.png").status_code == 404
    assert client.get("/payments/vietqr/webhook").status_code == 405


# --- the bank webhook --------------------------------------------------------------------------------

def test_exact_transfer_settles_once_and_replays_change_nothing(client):
    vase, _ = two_shop_products()
    _r, checkout = qr_checkout(client, (vase.variants[0].id, 1))
    before = len(read_outbox())
    description = f"NGUYEN THI LAN CK {checkout.stripe_session_id}"
    first = post_transfer(client, "FT26341000001", checkout.total, description)
    assert first.status_code == 200 and first.get_json()["outcome"] == "paid"
    for _ in range(3):
        again = post_transfer(client, "FT26341000001", checkout.total, description)
        assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert statuses(checkout) == ["paid"]
    assert _count(BankTransaction) == 1
    row = db.session.scalar(sa.select(BankTransaction))
    assert (row.status, row.checkout_id, row.amount, row.source) == ("matched", checkout.id, checkout.total, "webhook")
    assert len(read_outbox()) - before == 2  # the buyer's "paid" mail and the shop's new-order alert, once
    assert db.session.get(Checkout, checkout.id).payment_intent_id == "vietqr:FT26341000001"


def test_webhook_replayed_ten_times_in_parallel_settles_once(client, app):
    vase, scarf = two_shop_products()
    _r, checkout = qr_checkout(client, (vase.variants[0].id, 1), (scarf.variants[0].id, 1))
    body = json.dumps({"transaction_id": "FT-PAR-1", "amount": checkout.total,
                       "description": checkout.stripe_session_id, "time": "2026-12-07T03:00:00Z"}).encode()
    db.session.remove()
    barrier = threading.Barrier(10)
    answers = []

    def call():
        c = app.test_client()
        barrier.wait()
        r = post_transfer(c, None, None, None, raw=body)
        answers.append((r.status_code, r.get_json().get("outcome"), r.get_json().get("duplicate")))

    threads = [threading.Thread(target=call) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers, key=str) == sorted([(200, "paid", None)] + [(200, None, True)] * 9, key=str)
    assert statuses(checkout) == ["paid", "paid"]
    assert _count(BankTransaction) == 1


def test_bad_signature_and_bad_bodies_change_nothing(client):
    vase, _ = two_shop_products()
    _r, checkout = qr_checkout(client, (vase.variants[0].id, 1))
    ref = checkout.stripe_session_id
    assert post_transfer(client, "T1", checkout.total, ref, secret="wrong-secret-xxxxxxxxxxxxxxxx").status_code == 401
    body = json.dumps({"transaction_id": "T1", "amount": checkout.total, "description": ref}).encode()
    assert client.post("/payments/vietqr/webhook", data=body, content_type="application/json").status_code == 401
    for bad in ({"transaction_id": "T2", "amount": float(checkout.total), "description": ref},
                {"transaction_id": "T2", "amount": -5, "description": ref},
                {"transaction_id": "", "amount": checkout.total, "description": ref},
                {"transaction_id": "T2", "amount": True, "description": ref},
                {"transaction_id": "T2", "amount": checkout.total, "description": ref, "time": "yesterday"},
                ["not", "an", "object"]):
        assert post_transfer(client, None, None, None, raw=json.dumps(bad).encode()).status_code == 400, bad
    assert post_transfer(client, None, None, None, raw=b"\xff\xfe").status_code == 400
    assert statuses(checkout) == ["pending_payment"]
    assert _count(BankTransaction) == 0


def test_wrong_amounts_and_unknown_references_go_to_review(client):
    vase, scarf = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))
    _r, b = qr_checkout(client, (scarf.variants[0].id, 1))
    under = post_transfer(client, "U1", a.total - 1, a.stripe_session_id)
    over = post_transfer(client, "O1", b.total + 1000, b.stripe_session_id)
    unknown = post_transfer(client, "X1", 99_000, "chuyen tien CLN999ZZZZ")
    assert [r.get_json()["outcome"] for r in (under, over, unknown)] == ["underpaid", "overpaid", "unmatched"]
    for _ in range(2):  # replays change nothing
        assert post_transfer(client, "U1", a.total - 1, a.stripe_session_id).get_json()["duplicate"] is True
    assert statuses(a) == ["pending_payment"] and statuses(b) == ["pending_payment"]
    assert _count(BankTransaction, BankTransaction.status == "review") == 3
    # the rest of an underpayment completes it to the đồng: paid (nothing was paid on the partial amount)
    rest = post_transfer(client, "U2", 1, f"bo sung {a.stripe_session_id}")
    assert rest.get_json()["outcome"] == "paid"
    assert statuses(a) == ["paid"]
    assert _count(BankTransaction, BankTransaction.status == "review") == 2


def test_late_transfer_is_reviewed_and_refunded_by_the_admin(client, runner, login):
    vase, _ = two_shop_products()
    variant_id = vase.variants[0].id
    stock = db.session.get(Variant, variant_id).stock
    _r, checkout = qr_checkout(client, (variant_id, 2))
    stored = db.session.get(Checkout, checkout.id)
    stored.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = len(read_outbox())
    result = runner.invoke(args=["payments", "reconcile"])
    assert "released=1" in result.output, result.output
    assert statuses(checkout) == ["expired"]
    mails = read_outbox()[before:]
    assert len(mails) == 1 and mails[0]["To"] == ADDRESS["email"]  # the buyer is told
    db.session.expire_all()
    assert db.session.get(Variant, variant_id).stock == stock
    r = post_transfer(client, "LATE1", checkout.total, checkout.stripe_session_id)
    assert r.get_json()["outcome"] == "late"
    assert statuses(checkout) == ["needs_review"]
    row = db.session.scalar(sa.select(BankTransaction).where(BankTransaction.transaction_id == "LATE1"))
    admin_client(client, login)
    page = client.get("/admin/payments/bank").get_data(as_text=True)
    assert "LATE1" in page and "Đến sau khi hết hạn giữ hàng" in page
    r = client.post(f"/admin/payments/bank/{row.id}/refund", data={"note": "FT-BACK-1"})
    assert r.status_code == 303
    assert statuses(checkout) == ["refunded"]
    assert db.session.get(BankTransaction, row.id).status == "refunded"
    refund = db.session.scalar(sa.select(Refund))
    assert (refund.amount, refund.method, refund.status) == (checkout.total, "vietqr", "succeeded")
    # acting twice changes nothing
    client.post(f"/admin/payments/bank/{row.id}/refund", data={"note": "FT-BACK-1"})
    assert _count(Refund) == 1


def test_admin_settles_an_overpayment_and_attaches_a_mistyped_transfer(client, login):
    vase, scarf = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))
    _r, b = qr_checkout(client, (scarf.variants[0].id, 1))
    post_transfer(client, "O1", a.total + 5_000, a.stripe_session_id)
    post_transfer(client, "M1", b.total, "chuyen tien don hang khan lua")  # the reference was forgotten
    post_transfer(client, "U1", 10_000, "chuyen tien don hang")
    over = db.session.scalar(sa.select(BankTransaction).where(BankTransaction.transaction_id == "O1"))
    missing = db.session.scalar(sa.select(BankTransaction).where(BankTransaction.transaction_id == "M1"))
    small = db.session.scalar(sa.select(BankTransaction).where(BankTransaction.transaction_id == "U1"))
    admin = admin_client(client, login)
    assert client.post(f"/admin/payments/bank/{over.id}/settle").status_code == 303
    assert statuses(a) == ["paid"]
    assert db.session.get(BankTransaction, over.id).status == "settled"
    assert db.session.get(BankTransaction, over.id).resolved_by_id == admin.id
    r = client.post(f"/admin/payments/bank/{missing.id}/attach", data={"reference": b.stripe_session_id})
    assert r.status_code == 303
    assert statuses(b) == ["paid"]
    assert db.session.get(BankTransaction, missing.id).status == "matched"
    # a partial amount cannot be settled, and a reference that is no checkout's is refused
    client.post(f"/admin/payments/bank/{small.id}/attach", data={"reference": "CLN999ZZZZ"})
    assert db.session.get(BankTransaction, small.id).checkout_id is None
    # shoppers and artisans have no access
    login(client, vase.shop.owner)
    assert client.get("/admin/payments/bank").status_code == 403
    assert client.post(f"/admin/payments/bank/{small.id}/refund", data={"note": "x"}).status_code == 403


def test_partial_payment_cannot_be_settled(client, login):
    vase, _ = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))
    post_transfer(client, "U1", a.total - 100_000, a.stripe_session_id)
    row = db.session.scalar(sa.select(BankTransaction))
    admin_client(client, login)
    r = client.post(f"/admin/payments/bank/{row.id}/settle", follow_redirects=True)
    assert r.status_code == 200 and "chưa đủ" in r.get_data(as_text=True)
    assert statuses(a) == ["pending_payment"]
    assert db.session.get(BankTransaction, row.id).status == "review"


# --- statements --------------------------------------------------------------------------------------

def _csv(rows, header=("Ngày giao dịch", "Số tiền ghi có", "Nội dung", "Mã giao dịch")) -> bytes:
    lines = ["SAO KE TAI KHOAN 0011001234567", "", ",".join(header)]
    lines += [",".join(f'"{c}"' for c in row) for row in rows]
    return "\n".join(lines).encode("utf-8")


def _upload(client, name, data, **mapping):
    return client.post("/admin/payments/bank/preview", data={"statement": (io.BytesIO(data), name), **mapping},
                       content_type="multipart/form-data")


def _confirm(client, preview_html):
    value = re.search(r'name="rows" type="hidden" value="([^"]+)"', preview_html) or \
        re.search(r'type="hidden" name="rows" value="([^"]+)"', preview_html) or \
        re.search(r'id="rows" name="rows" type="hidden" value="([^"]+)"', preview_html)
    assert value, "the preview carries the rows to import"
    return client.post("/admin/payments/bank/import", data={"rows": value.group(1)}, follow_redirects=True)


def test_statement_upload_previews_settles_and_reupload_changes_nothing(client, login):
    vase, scarf = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))
    _r, b = qr_checkout(client, (scarf.variants[0].id, 1))
    data = _csv([("07/12/2026 10:15", f"{a.total:,}", f"CK {a.stripe_session_id}", "FT001"),
                 ("07/12/2026 11:00", f"{b.total - 1000:,}".replace(",", "."), f"CK {b.stripe_session_id}", "FT002"),
                 ("07/12/2026 12:00", "50.000", "tien dien", "FT003")])
    admin_client(client, login)
    preview = _upload(client, "saoke.csv", data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Khớp đơn" in html and "Chuyển thiếu" in html and "Không khớp mã đơn" in html
    assert _count(BankTransaction) == 0 and statuses(a) == ["pending_payment"]  # a preview writes nothing
    done = _confirm(client, html)
    assert "3 giao dịch mới" in done.get_data(as_text=True)
    assert statuses(a) == ["paid"] and statuses(b) == ["pending_payment"]
    assert _count(BankTransaction) == 3
    assert _count(BankTransaction, BankTransaction.status == "review") == 2
    again = _confirm(client, _upload(client, "saoke.csv", data).get_data(as_text=True))
    assert "0 giao dịch mới" in again.get_data(as_text=True) and "3 giao dịch đã có" in again.get_data(as_text=True)
    assert _count(BankTransaction) == 3 and statuses(a) == ["paid"]


def test_xlsx_statement_with_own_column_names(client, login):
    vase, _ = two_shop_products()
    _r, a = qr_checkout(client, (vase.variants[0].id, 1))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Bank statement"])
    sheet.append(["Posting date", "Credit amount", "Remarks", "Txn no"])
    sheet.append([utcnow(), a.total, f"{a.stripe_session_id} chuyen khoan", 123456789])
    out = io.BytesIO()
    book.save(out)
    admin_client(client, login)
    preview = _upload(client, "statement.xlsx", out.getvalue(), date_column="Posting date",
                      amount_column="Credit amount", description_column="Remarks", transaction_id_column="Txn no")
    assert preview.status_code == 200, preview.get_data(as_text=True)[:500]
    _confirm(client, preview.get_data(as_text=True))
    assert statuses(a) == ["paid"]
    assert db.session.scalar(sa.select(BankTransaction.transaction_id)) == "123456789"


def test_malformed_statement_gets_a_per_row_report(client, login):
    data = _csv([("07/12/2026", "100.000", "ok", "FT1"),
                 ("32/13/2026", "100.000", "bad date", "FT2"),
                 ("07/12/2026", "12,5", "not whole", "FT3"),
                 ("07/12/2026", "-20.000", "debit", "FT4"),
                 ("07/12/2026", "100.000", "no id", ""),
                 ("07/12/2026", "100.000", "twice", "FT1")])
    parsed = parse_statement("s.csv", data)
    assert [r.transfer.transaction_id for r in parsed.rows] == ["FT1"]
    assert [row for row, _msg in parsed.errors] == [5, 6, 7, 8, 9]
    admin_client(client, login)
    html = _upload(client, "s.csv", data).get_data(as_text=True)
    for n in (5, 6, 7, 8, 9):
        assert f"Dòng {n}" in html
    wrong = _upload(client, "s.csv", b"a,b,c\n1,2,3\n")
    assert wrong.status_code == 400 and "no header row" in wrong.get_data(as_text=True)
    assert _upload(client, "s.xlsx", b"not a workbook").status_code == 400
    assert _upload(client, "s.pdf", b"%PDF").status_code == 400
    assert _count(BankTransaction) == 0


def test_vietqr_offered_only_when_configured(app):
    assert registry.get("vietqr").collector == "platform"
    assert "vietqr" in [m.identifier for m in registry.enabled(app.config)]
    app.config["VIETQR_ACCOUNT_NUMBER"] = None
    assert "vietqr" not in [m.identifier for m in registry.enabled(app.config)]
