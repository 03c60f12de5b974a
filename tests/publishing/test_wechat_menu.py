"""The menu push (publishing.actions.PushMenu) and pull: every WeChat limit refused with a message naming the item
and the limit, before anything reaches WeChat; a valid menu pushed through the channel's client and pulled back
equal."""

import pytest
from django.utils import translation

from accounts.models import AuditLog
from govcms.actions import ActionRefused
from publishing import wechat_menu
from publishing.actions import PUSH_MENU
from publishing.models import WeChatMenu, WeChatMenuItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese_words():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def menu(accounts):
    menu = WeChatMenu.objects.create(account=accounts["sub"])
    rows = [
        dict(group=1, position=0, name="政务公开", kind="view", url="https://gov.example.cn/"),
        dict(group=2, position=0, name="办事服务"),
        dict(group=2, position=1, name="办事指南", kind="click", key="GUIDE"),
        dict(
            group=2,
            position=2,
            name="预约小程序",
            kind="miniprogram",
            url="https://gov.example.cn/m",
            appid="wx0miniprogram01",
            pagepath="pages/index",
        ),  # fmt: skip
        dict(group=3, position=0, name="往期文章", kind="article_id", article_id="ARTICLE_1"),
    ]
    for row in rows:
        WeChatMenuItem.objects.create(menu=menu, **row)
    return menu


def refused(menu, administrator, sandbox) -> str:
    with pytest.raises(ActionRefused) as caught:
        PUSH_MENU.execute(administrator, menu)
    assert sandbox.state()["requests"].get("/cgi-bin/menu/create") is None  # nothing sent
    menu.refresh_from_db()
    assert menu.pushed_at is None
    assert not AuditLog.objects.filter(action="wechat_menu.push").exists()
    assert PUSH_MENU.check(administrator, menu) == caught.value.reason  # the button is hidden for the same reason
    return caught.value.reason


def push(menu, administrator) -> list[dict]:
    """The buttons WeChat (the sandbox) has after the push."""
    PUSH_MENU.execute(administrator, menu)
    return wechat_menu.buttons_of(list(menu.items.all()))


def test_valid_menu_is_pushed_and_pulled_back_equal(menu, administrator, sandbox):
    sent = push(menu, administrator)
    menu.refresh_from_db()
    assert menu.pushed_at is not None
    assert sandbox.state()["menus"][menu.account.wechat_app_id]["button"] == sent
    assert sent[1] == {
        "name": "办事服务",
        "sub_button": [
            {"name": "办事指南", "type": "click", "key": "GUIDE"},
            {
                "name": "预约小程序",
                "type": "miniprogram",
                "url": "https://gov.example.cn/m",
                "appid": "wx0miniprogram01",
                "pagepath": "pages/index",
            },  # fmt: skip
        ],
    }
    pulled = wechat_menu.menu_pull(menu=menu)
    assert pulled == sent
    menu.refresh_from_db()
    assert menu.remote_buttons == sent
    assert wechat_menu.menu_differences(sent, menu.remote_buttons) == []
    assert AuditLog.objects.filter(action="wechat_menu.push").count() == 1


def test_pulled_menu_shows_what_differs(menu, administrator, sandbox):
    push(menu, administrator)
    WeChatMenuItem.objects.filter(menu=menu, group=2, position=1).update(key="GUIDE2")
    WeChatMenuItem.objects.filter(menu=menu, group=3).delete()
    wechat_menu.menu_pull(menu=menu)
    menu.refresh_from_db()
    saved = wechat_menu.buttons_of(menu.items.all())
    assert wechat_menu.menu_differences(saved, menu.remote_buttons) == [
        "第2个一级菜单的第1个子菜单“办事指南”的key不同：本系统为GUIDE2，微信上为GUIDE。",
        "第3个一级菜单“往期文章”：只在微信上，本系统没有。",
    ]


def test_pull_of_an_account_without_menu_is_empty(menu, sandbox):
    assert wechat_menu.menu_pull(menu=menu) == []


def test_first_level_name_over_16_bytes_refused(menu, administrator, sandbox):
    WeChatMenuItem.objects.filter(menu=menu, group=1).update(name="政务公开栏目")  # 6 characters, 18 bytes
    assert refused(menu, administrator, sandbox) == (
        "第1个一级菜单“政务公开栏目”：名称为18字节，微信最多允许16字节（5个汉字）。"
    )


def test_sixteen_bytes_pass_at_first_level(menu, administrator, sandbox):
    WeChatMenuItem.objects.filter(menu=menu, group=1).update(name="ABCDEFGHIJKLMNOP")
    push(menu, administrator)
    assert sandbox.state()["menus"][menu.account.wechat_app_id]["button"][0]["name"] == "ABCDEFGHIJKLMNOP"


def test_second_level_name_over_60_bytes_refused(menu, administrator, sandbox):
    WeChatMenuItem.objects.filter(menu=menu, group=2, position=1).update(name="办" * 21)  # 63 bytes
    assert refused(menu, administrator, sandbox) == (
        f"第2个一级菜单的第1个子菜单“{'办' * 21}”：名称为63字节，微信最多允许60字节（20个汉字）。"
    )


def test_key_over_128_bytes_refused(menu, administrator, sandbox):
    WeChatMenuItem.objects.filter(menu=menu, group=2, position=1).update(key="K" * 129)
    assert refused(menu, administrator, sandbox) == (
        "第2个一级菜单的第1个子菜单“办事指南”：键值为129字节，微信最多允许128字节。"
    )


def test_url_over_1024_bytes_refused(menu, administrator, sandbox):
    WeChatMenuItem.objects.filter(menu=menu, group=1).update(url="https://gov.example.cn/" + "a" * 1002)
    assert refused(menu, administrator, sandbox) == "第1个一级菜单“政务公开”：网址为1025字节，微信最多允许1024字节。"


def test_four_first_level_items_refused(menu, administrator, sandbox):
    WeChatMenuItem.objects.create(menu=menu, group=4, position=0, name="联系我们", kind="click", key="CONTACT")
    assert refused(menu, administrator, sandbox) == "菜单须有1至3个一级菜单，现有4个。"


def test_six_second_level_items_refused(menu, administrator, sandbox):
    for position in range(3, 7):
        WeChatMenuItem.objects.create(menu=menu, group=2, position=position, name=f"子{position}", kind="click",
                                      key=f"K{position}")  # fmt: skip
    assert refused(menu, administrator, sandbox) == "第2个一级菜单“办事服务”有6个子菜单，最多5个。"


def test_miniprogram_without_page_refused(menu, administrator, sandbox):
    WeChatMenuItem.objects.filter(menu=menu, group=2, position=2).update(pagepath="")
    assert refused(menu, administrator, sandbox) == (
        "第2个一级菜单的第2个子菜单“预约小程序”：小程序菜单须填写小程序AppID和页面路径。"
    )


def test_sandbox_refuses_what_wechat_refuses(wechat_client):
    from publishing.channels.wechat_api import WeChatAPIError

    with pytest.raises(WeChatAPIError) as caught:
        wechat_client.menu.create({"button": [{"name": "政务公开栏目", "type": "click", "key": "A"}]})
    assert caught.value.code == 40018
    with pytest.raises(WeChatAPIError) as caught:
        wechat_client.menu.create(
            {"button": [{"name": "服务", "sub_button": [{"name": "办" * 21, "type": "click", "key": "A"}]}]}
        )
    assert caught.value.code == 40025
    with pytest.raises(WeChatAPIError) as caught:
        wechat_client.menu.create({"button": [{"name": "服务", "type": "click", "key": "K" * 129}]})
    assert caught.value.code == 40019


def test_demo_menu_keeps_every_limit(db):
    from publishing.demo import DEMO_MENU

    items = [{**item, "url": "http://127.0.0.1:8000" + item["url"]} if "url" in item else item for item in DEMO_MENU]
    buttons = wechat_menu.buttons_of(items)
    assert len(buttons) == 3
    assert wechat_menu.menu_problems(buttons) == []
