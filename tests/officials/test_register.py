"""The village register: create and edit (post-2025 commune, coordinates in Hà Nội), recognition decisions,
photos, and the city's list imported from CSV/XLSX (preview, per-row errors, all or nothing, idempotent)."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.catalog.models import CraftVillage, Recognition, VillageImage
from marketplace.catalog.services import SYSTEM
from marketplace.core.audit import AuditEntry
from marketplace.errors import InvalidInput, NotAllowed
from marketplace.extensions import db
from marketplace.officials import village_register as reg
from marketplace.officials.models import RecognitionDecision
from tests.factories import make_user, make_village
from tests.officials.register_files import register_csv, register_rows, register_xlsx
from tests.seller.imagegen import jpeg_bytes

GOOD = {"name_vi": "Làng gốm Kim Lan", "commune_vi": "Bát Tràng", "former_district_vi": "huyện Gia Lâm",
        "craft_vi": "gốm sứ", "category": "ceramics", "latitude": "20.9580", "longitude": "105.9050"}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def errors_of(exc) -> dict:
    return exc.value.details["errors"]


def test_create_village_commune_is_a_2025_unit_and_coordinates_in_hanoi(app, official):
    village = reg.create_village(official, GOOD)
    assert village.commune_vi == "xã Bát Tràng" and village.former_district_vi == "huyện Gia Lâm"
    assert village.code == "lang-gom-kim-lan" and village.slug and village.latitude == pytest.approx(20.958)
    for bad, key in ((dict(GOOD, commune_vi="xã Kim Lan"), "commune_vi"),       # a pre-2025 commune
                     (dict(GOOD, commune_vi="thị trấn Trâu Quỳ"), "commune_vi"),
                     (dict(GOOD, commune_vi=""), "commune_vi"),                 # unknown needs a reason
                     (dict(GOOD, latitude="10.77", longitude="106.70"), "latitude"),  # Hồ Chí Minh City
                     (dict(GOOD, latitude="105.9", longitude="20.9"), "latitude"),    # swapped
                     (dict(GOOD, longitude=""), "latitude"), (dict(GOOD, latitude="abc"), "latitude"),
                     (dict(GOOD, latitude="nan", longitude="nan"), "latitude"),
                     (dict(GOOD, category="weapons"), "category"), (dict(GOOD, name_vi=""), "name_vi"),
                     (dict(GOOD, code="a b"), "code"), (dict(GOOD, code="lang-gom-kim-lan"), "code")):
        with pytest.raises(InvalidInput) as exc:
            reg.create_village(official, bad)
        assert key in errors_of(exc), bad
    unknown = reg.create_village(official, dict(GOOD, name_vi="Làng X", commune_vi="",
                                                commune_note="Thôn đã giải thể năm 2019; chưa có địa chỉ mới"))
    assert unknown.commune_vi is None and unknown.commune_note.startswith("Thôn")
    with pytest.raises(NotAllowed):
        reg.create_village(make_user(Role.ARTISAN), GOOD)


def test_update_is_audited_and_a_no_change_update_records_nothing(app, official):
    village = reg.create_village(official, GOOD)
    assert reg.update_village(official, village, dict(GOOD, code=village.code, tourism="có")) is True
    assert village.tourism is True
    assert reg.update_village(official, village, dict(GOOD, code=village.code, tourism="có")) is False
    actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["register.create", "register.update"]


def test_recognition_decisions_drive_the_recognized_set(app, official):
    village = make_village(slug="lang-moi", recognition=Recognition.NONE)
    reg.record_decision(official, village, {"number": "12/QĐ-UBND", "decided_on": "2024-03-01", "title": "lang_nghe"})
    assert village.recognition == Recognition.CRAFT_VILLAGE
    decision = reg.record_decision(official, village, {"number": "99/QĐ-UBND", "decided_on": "2025-06-01",
                                                       "title": Recognition.TRADITIONAL})
    assert (decision.previous_title, decision.title) == (Recognition.CRAFT_VILLAGE, Recognition.TRADITIONAL)
    assert village.recognition == Recognition.TRADITIONAL and village.recognition_decision == "99/QĐ-UBND"
    with pytest.raises(InvalidInput) as exc:
        reg.record_decision(official, village, {"number": "", "decided_on": "31/02/2024", "title": "none"})
    assert set(errors_of(exc)) == {"number", "decided_on", "title"}


def test_import_300_rows_then_reimport_changes_nothing(app, official):
    data = register_csv(register_rows(300))
    preview = reg.run_register_import(official, data, "so.csv", dry_run=True)
    assert preview.plan.ok and preview.plan.count("create") == 300 and count(CraftVillage) == 0
    result = reg.run_register_import(official, data, "so.csv")
    assert result.applied and result.created == 300 and result.decisions == 30
    db.session.commit()
    assert count(CraftVillage) == 300 and count(RecognitionDecision) == 30
    recognized = db.session.scalar(sa.select(sa.func.count(CraftVillage.id))
                                   .where(CraftVillage.recognition.in_(Recognition.RECOGNIZED)))
    assert recognized == 30
    audit_before = count(AuditEntry)
    again = reg.run_register_import(official, data, "so.csv")
    assert again.applied and (again.created, again.updated, again.unchanged, again.decisions) == (0, 0, 300, 0)
    db.session.commit()
    assert count(CraftVillage) == 300 and count(RecognitionDecision) == 30
    assert count(AuditEntry) == audit_before + 1  # only the import's own entry


def test_a_bad_row_imports_nothing_and_says_which_line(app, official):
    rows = register_rows(20)
    rows[4]["commune_vi"] = "xã Duyên Thái"          # abolished in 2025 → line 6
    rows[9]["latitude"] = "21.9"                      # outside Hà Nội → line 11
    rows[12]["code"] = rows[2]["code"]                # duplicate → line 14
    rows[19]["decision_date"] = "31/02/2024"          # line 21 (row 20 carries a decision)
    result = reg.run_register_import(official, register_csv(rows), "so.csv")
    assert not result.applied and count(CraftVillage) == 0
    assert set(result.plan.errors) == {6, 11, 14, 21}
    assert "commune_vi" in result.plan.errors[6][0] and "line" not in result.plan.errors[14][0]
    assert "HN-LN-0003" in result.plan.errors[14][0]


def test_reimport_updates_only_changed_rows_and_columns_present(app, official):
    reg.run_register_import(official, register_csv(register_rows(5)), "so.csv")
    db.session.commit()
    village = db.session.scalars(sa.select(CraftVillage).where(CraftVillage.code == "HN-LN-0002")).one()
    village.story_vi = "Câu chuyện do cán bộ viết."
    db.session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["code", "name_vi", "craft_vi", "category", "commune_vi"])
    writer.writerow(["HN-LN-0002", "Làng nghề số 2 (đổi tên)", "mây tre đan", "textiles", "phường Hà Đông"])
    writer.writerow(["HN-LN-0003", "Làng nghề số 3", "mây tre đan", "paper_printing", "xã Chuyên Mỹ"])
    result = reg.run_register_import(official, buffer.getvalue().encode(), "sua.csv")
    assert result.applied and (result.created, result.updated, result.unchanged) == (0, 2, 0)
    db.session.commit()
    db.session.expire_all()
    village = db.session.scalars(sa.select(CraftVillage).where(CraftVillage.code == "HN-LN-0002")).one()
    assert village.name_vi == "Làng nghề số 2 (đổi tên)" and village.commune_vi == "phường Hà Đông"
    assert village.story_vi == "Câu chuyện do cán bộ viết." and village.latitude is not None  # not in the file


def test_xlsx_import_and_file_errors(app, official):
    result = reg.run_register_import(official, register_xlsx(register_rows(12)), "so.xlsx")
    assert result.applied and result.created == 12
    for data, name in ((b"", "a.csv"), (b"PK\x03\x04garbage", "a.xlsx"), (b"code;name_vi\n1;x", "a.csv"),
                       (b"\xff\xfe\x00bad", "a.csv")):
        with pytest.raises(InvalidInput):
            reg.run_register_import(official, data, name)


def test_cli_import(app, runner, tmp_path):
    path = tmp_path / "so.csv"
    path.write_bytes(register_csv(register_rows(8)))
    result = runner.invoke(args=["register", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "8 new" in result.output and count(CraftVillage) == 8
    again = runner.invoke(args=["register", "import", str(path)])
    assert "8 unchanged" in again.output and count(CraftVillage) == 8
    bad = register_rows(3, start=50)
    bad[1]["category"] = "x"
    path.write_bytes(register_csv(bad))
    failed = runner.invoke(args=["register", "import", str(path)])
    assert failed.exit_code == 1 and "line 3" in failed.output and count(CraftVillage) == 8


# --- pages ------------------------------------------------------------------------------------------

def test_import_preview_then_apply_through_the_pages(app, client, login, official):
    login(client, official)
    data = register_csv(register_rows(30))
    r = client.post("/officials/register/import", data={"file": (io.BytesIO(data), "so.csv"), "action": "preview"},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "30 dòng: 30 làng mới" in page and count(CraftVillage) == 0
    payload = page.split('name="payload" value="')[1].split('"')[0]
    r = client.post("/officials/register/import", data={"payload": payload, "filename": "so.csv", "action": "apply"})
    assert r.status_code == 303 and count(CraftVillage) == 30
    rows = register_rows(3, start=100)
    rows[0]["longitude"] = "200"
    r = client.post("/officials/register/import", data={"file": (io.BytesIO(register_csv(rows)), "x.csv"),
                                                         "action": "apply"}, content_type="multipart/form-data")
    assert r.status_code == 400 and "Chưa nhập gì" in r.get_data(as_text=True) and count(CraftVillage) == 30
    r = client.post("/officials/register/import", data={"payload": "!!!", "action": "apply"})
    assert r.status_code == 400


def test_edit_page_photo_decision_and_export_is_safe(app, client, login, official):
    village = reg.create_village(official, dict(GOOD, name_vi="=HYPERLINK(\"http://x\")"))
    db.session.commit()
    login(client, official)
    assert client.get(f"/officials/register/{village.id}").status_code == 200
    r = client.post(f"/officials/register/{village.id}", data=dict(GOOD, code=village.code, name_vi="Kim Lan",
                                                                    latitude="99"))
    assert r.status_code == 400 and "Vĩ độ từ -90 đến 90" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CraftVillage, village.id).name_vi.startswith("=HYPERLINK")  # nothing saved
    r = client.post(f"/officials/register/{village.id}/photos", data={"photo": (io.BytesIO(jpeg_bytes()), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 303 and count(VillageImage) == 1
    r = client.post(f"/officials/register/{village.id}/decisions",
                    data={"number": "5/QĐ-UBND", "decided_on": "2023-05-05", "title": "lang_nghe"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(CraftVillage, village.id).recognition == Recognition.CRAFT_VILLAGE
    text = client.get("/officials/register/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert client.get("/officials/register/export.xlsx").status_code == 200
    assert client.get("/officials/register/export.pdf").status_code == 404


def test_system_actor_may_import(app):
    result = reg.run_register_import(SYSTEM, register_csv(register_rows(2)), "a.csv")
    assert result.applied and result.created == 2
