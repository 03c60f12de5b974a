"""The menu editor in the admin: a menu breaking a limit is not stored (the item and the limit named), a valid
one is pushed from its page, pulled back and shown equal; tags pulled from the sandbox, reserved ids left out."""

import pytest
from django.urls import reverse

from publishing.models import WeChatMenu, WeChatMenuItem, WeChatTag

pytestmark = pytest.mark.django_db

ITEM_FIELDS = ["group", "position", "name", "kind", "key", "url", "appid", "pagepath", "article_id"]


def menu_post(account, rows):
    data = {
        "account": account.pk,
        "items-TOTAL_FORMS": len(rows),
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        for field in ITEM_FIELDS:
            data[f"items-{index}-{field}"] = row.get(field, "")
    return data


def test_menu_over_a_limit_is_not_saved_and_names_the_item(client, login, administrator, accounts):
    login(administrator)
    rows = [{"group": 1, "position": 0, "name": "政务公开栏目", "kind": "click", "key": "OPEN"}]
    answer = client.post(reverse("admin:publishing_wechatmenu_add"), menu_post(accounts["sub"], rows))
    assert answer.status_code == 200
    assert "第1个一级菜单“政务公开栏目”：名称为18字节，微信最多允许16字节（5个汉字）。" in answer.content.decode()
    assert not WeChatMenu.objects.exists()


def test_valid_menu_is_saved_pushed_and_pulled_equal(client, login, administrator, accounts, sandbox):
    login(administrator)
    rows = [
        {"group": 1, "position": 0, "name": "政务公开", "kind": "view", "url": "https://gov.example.cn/"},
        {"group": 2, "position": 0, "name": "办事"},
        {"group": 2, "position": 1, "name": "办事指南", "kind": "click", "key": "GUIDE"},
    ]
    answer = client.post(reverse("admin:publishing_wechatmenu_add"), menu_post(accounts["sub"], rows))
    assert answer.status_code == 302
    menu = WeChatMenu.objects.get()
    assert WeChatMenuItem.objects.filter(menu=menu).count() == 3
    push_url = reverse("admin:publishing_wechatmenu_workflow", args=[menu.pk, "push"])
    assert push_url in client.get(reverse("admin:publishing_wechatmenu_change", args=[menu.pk])).content.decode()
    page = client.post(push_url, follow=True).content.decode()
    assert "已完成：推送到微信。" in page
    assert sandbox.state()["menus"][accounts["sub"].wechat_app_id]["button"] == [
        {"name": "政务公开", "type": "view", "url": "https://gov.example.cn/"},
        {"name": "办事", "sub_button": [{"name": "办事指南", "type": "click", "key": "GUIDE"}]},
    ]
    client.get(reverse("admin:publishing_wechatmenu_pull_from_wechat", args=[menu.pk]))
    page = client.get(reverse("admin:publishing_wechatmenu_change", args=[menu.pk])).content.decode()
    assert "微信上的菜单与本系统保存的相同。" in page


def test_tags_pulled_without_reserved_ids(client, login, administrator, accounts, sandbox):
    account = accounts["sub"]
    sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret,
                            tags={"100": 320, "101": 45}, tag_names={"100": "城关镇居民"})  # fmt: skip
    login(administrator)
    client.get(reverse("admin:publishing_wechattag_pull_tags"))
    assert list(WeChatTag.objects.filter(account=account).values_list("tag_id", "name", "follower_count")) == [
        (100, "城关镇居民", 320),
        (101, "标签101", 45),
    ]
