"""The office head reads the reply draft on the case page, right beside the approve button."""

import pytest

from complaints import services
from tests.complaints.admin_helpers import action, change

pytestmark = pytest.mark.django_db

REPLY = "经核查，学校食堂已按规定退还多收的伙食费。\n<b>如有疑问</b>请致电教育局。"


def test_the_head_sees_the_draft_beside_the_approve_button(routed_case, handler, head, login):
    case, _code = routed_case()
    services.reply_save(actor=handler, case=case, body=REPLY)
    services.reply_submit(actor=handler, case=case)
    page = login(head).get(change(case)).content.decode()
    handling = page.split('id="case-handling-heading"')[1].split('id="case-deadline-heading"')[0]
    draft = handling.split('id="case-draft-heading"')[1]
    text = "<p>经核查，学校食堂已按规定退还多收的伙食费。<br>&lt;b&gt;如有疑问&lt;/b&gt;请致电教育局。</p>"
    assert text in draft  # rendered as paragraphs, escaped
    # The approve button (it posts the form at the page's end) and the send-back link follow the text.
    assert draft.index(text) < draft.index('form="case-action-approve"')
    assert draft.index(text) < draft.index(action(case, "send_back"))


def test_no_draft_box_while_the_reply_is_being_written(routed_case, handler, head, login):
    case, _code = routed_case()
    services.reply_save(actor=handler, case=case, body=REPLY)
    page = login(head).get(change(case)).content.decode()
    assert 'id="case-draft-heading"' not in page


def test_publishing_and_unpublishing_name_what_happens_before_acting(routed_case, handler, head, login):
    from complaints.actions import PUBLISH, UNPUBLISH

    case, _code = routed_case()
    services.reply_save(actor=handler, case=case, body="已处理。")
    services.reply_submit(actor=handler, case=case)
    services.reply_approve(actor=head, case=case)
    client = login(head)
    page = client.get(action(case, "publish")).content.decode()
    assert str(PUBLISH.confirm) in page
    case.refresh_from_db()
    assert case.published is False
    client.post(action(case, "publish"), {"subject": "食堂收费", "question": "食堂多收费", "answer": "已处理。"})
    case.refresh_from_db()
    assert case.published is True
    page = client.get(action(case, "unpublish")).content.decode()
    assert str(UNPUBLISH.confirm) in page
    case.refresh_from_db()
    assert case.published is True
    client.post(action(case, "unpublish"), {"reason": "内容需更正"})
    case.refresh_from_db()
    assert case.published is False
