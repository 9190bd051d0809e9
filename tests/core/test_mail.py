from marketplace.core.mail import send_mail
from marketplace.core.outbox import read_outbox


def test_mail_goes_to_the_outbox_in_the_chosen_language(app, tmp_path):
    (tmp_path / "tpl").mkdir()
    app.jinja_loader.searchpath.append(str(tmp_path / "tpl"))
    (tmp_path / "tpl" / "mail").mkdir()
    (tmp_path / "tpl" / "mail" / "hello.vi.txt").write_text("Subject: Xin chào {{ name }}\n\nChào {{ name }}!\n")
    (tmp_path / "tpl" / "mail" / "hello.en.txt").write_text("Subject: Hello {{ name }}\n\nHi {{ name }}!\n")
    with app.test_request_context():
        send_mail("lan@example.vn", "hello", "vi", name="Lan")
        send_mail("emma@example.fr", "hello", "en", name="Emma")
    messages = read_outbox()
    assert [m["Subject"] for m in messages] == ["Xin chào Lan", "Hello Emma"]
    assert messages[0]["To"] == "lan@example.vn"
    assert "Chào Lan!" in messages[0].get_content()
