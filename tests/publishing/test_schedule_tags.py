"""The schedule's audience offers the follower tags pulled from WeChat, and refuses a tag an account lacks."""

import pytest
from django.utils import timezone, translation

from publishing.forms import ScheduleForm
from publishing.models import WeChatTag

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags(accounts):
    now = timezone.now()
    WeChatTag.objects.create(account=accounts["sub"], tag_id=100, name="城关镇居民", follower_count=320, pulled_at=now)
    return accounts


def form_for(editor, accounts, article, tag_id):
    data = {"send_at": "2030-01-07 09:30", "accounts": [accounts["sub"].pk], "audience": "tag",
            "wechat_tag_id": tag_id, "article_1": article.pk}  # fmt: skip
    with translation.override("zh-hans"):
        form = ScheduleForm(data, user=editor)
        form.is_valid()
        return form, str(form["wechat_tag_id"])


def test_pulled_tags_are_offered_by_name(tags, editor, approved):
    form, html = form_for(editor, tags, approved(), 100)
    assert '<option value="100" selected>示范县发布：城关镇居民（320位粉丝，ID 100）</option>' in html
    assert "wechat_tag_id" not in form.errors


def test_a_tag_the_account_lacks_is_refused(tags, editor, approved):
    form, _html = form_for(editor, tags, approved(), 101)
    assert form.errors["wechat_tag_id"] == ["示范县发布没有ID为101的粉丝标签（如为新建标签，请重新从微信拉取）。"]
