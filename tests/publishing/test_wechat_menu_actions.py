"""Pushing a WeChat menu (publishing.actions.PushMenu), for every demo role and every state of the menu that
matters: the menu's page shows the push button exactly when `execute` succeeds, a refused push changes nothing,
sends nothing and writes no audit entry, and the table says who may push at all."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts import roles
from accounts.models import AuditLog, User
from publishing.actions import MENU_ACTIONS, PUSH_MENU
from publishing.models import ChannelAccount, WeChatMenu, WeChatMenuItem
from tests.action_table import each_person, executes, shown
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data")]

DEMO_USERNAMES = ["admin", "editor", "reviewer1", "reviewer2", "reviewer3", "discloser", "registrar", "handler",
                  "handler-police", "head-edu", "head-police", "sysadmin", "secadmin", "auditor"]  # fmt: skip
# The menu's page answers 200 to those who may see menus (the system administrators), 403 to everyone else.
STATUS = {username: 403 for username in DEMO_USERNAMES} | {"admin": 200, "sysadmin": 200, "police-menus": 403}
NOBODY = {username: set() for username in STATUS}
EXPECTED = {
    "valid menu": {**NOBODY, "admin": {"push"}, "sysadmin": {"push"}},
    "a first-level name over 16 bytes": NOBODY,
    "a fourth first-level item": NOBODY,
    "account switched off": NOBODY,
}


@pytest.fixture
def people(county_police_menus):
    return {username: User.objects.get(username=username) for username in DEMO_USERNAMES} | {
        "police-menus": county_police_menus
    }


@pytest.fixture
def county_police_menus():
    """Someone of the police bureau allowed to push menus: the county office's account is not theirs."""
    user = UserFactory(username="police-menus", department=User.objects.get(username="head-police").department,
                       role=roles.EDITOR)  # fmt: skip
    user.user_permissions.add(Permission.objects.get(codename="change_wechatmenu"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def demo_menu(sandbox):
    """The demo's menu (示范县发布), its account pointed at this test's sandbox."""
    menu = WeChatMenu.objects.select_related("account").get(account__name="示范县发布")
    account = menu.account
    ChannelAccount.objects.filter(pk=account.pk).update(api_base_url=sandbox.url)
    sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret,
                            type=account.wechat_account_type, token=account.wechat_token)  # fmt: skip
    return menu


def put_in_state(menu: WeChatMenu, state: str) -> None:
    if state == "a first-level name over 16 bytes":
        WeChatMenuItem.objects.filter(menu=menu, group=1, position=0).update(name="政务公开栏目")
    elif state == "a fourth first-level item":
        WeChatMenuItem.objects.create(menu=menu, group=4, position=0, name="更多", kind="click", key="MORE")
    elif state == "account switched off":
        ChannelAccount.objects.filter(pk=menu.account_id).update(is_active=False)


def snapshot(menu: WeChatMenu) -> tuple:
    menu = WeChatMenu.objects.get(pk=menu.pk)
    return menu.pushed_at, list(menu.items.order_by("pk").values_list("group", "position", "name", "key", "url"))


@pytest.mark.parametrize("state", EXPECTED)
def test_the_push_button_is_shown_exactly_when_the_push_succeeds(state, demo_menu, people, client, sandbox):
    put_in_state(demo_menu, state)
    urls = {action.code: reverse("admin:publishing_wechatmenu_workflow", args=[demo_menu.pk, action.code])
            for action in MENU_ACTIONS}  # fmt: skip
    for name, user in each_person(people):
        client.force_login(user)
        response = client.get(reverse("admin:publishing_wechatmenu_change", args=[demo_menu.pk]))
        assert response.status_code == STATUS[name], name
        buttons = shown(response.content.decode(), urls) if response.status_code == 200 else set()
        allowed = {code for code in urls if executes(MENU_ACTIONS[code], user, demo_menu, lambda: snapshot(demo_menu))}
        assert buttons == allowed, f"{name} in “{state}”: buttons {buttons}, allowed {allowed}"
        assert allowed == EXPECTED[state][name], f"{name} in “{state}”"
    # WeChat got a menu only where a push was let through (each rolled back here, but WeChat keeps what it got).
    reached = menu_account_appid(demo_menu) in sandbox.state().get("menus", {})
    assert reached == any(EXPECTED[state].values())


def menu_account_appid(menu: WeChatMenu) -> str:
    return ChannelAccount.objects.get(pk=menu.account_id).wechat_app_id


def test_a_refusal_says_why_in_chinese(demo_menu, people):
    put_in_state(demo_menu, "a first-level name over 16 bytes")
    assert PUSH_MENU.check(people["sysadmin"], demo_menu) == (
        "第1个一级菜单“政务公开栏目”：名称为18字节，微信最多允许16字节（5个汉字）。"
    )
    assert PUSH_MENU.check(people["editor"], demo_menu) == "您没有执行此操作的权限。"
    assert PUSH_MENU.check(people["police-menus"], demo_menu) == "微信公众号：示范县发布 属于其他部门，您无权使用。"
    ChannelAccount.objects.filter(pk=demo_menu.account_id).update(is_active=False)
    menu = WeChatMenu.objects.select_related("account").get(pk=demo_menu.pk)
    assert (
        PUSH_MENU.check(people["sysadmin"], menu) == "微信公众号：示范县发布 已停用：请先启用该账号，再推送它的菜单。"
    )


def test_a_push_through_the_admin_reaches_wechat_and_is_audited(demo_menu, people, client, sandbox):
    client.force_login(people["sysadmin"])
    url = reverse("admin:publishing_wechatmenu_workflow", args=[demo_menu.pk, "push"])
    assert client.get(url).status_code == 302  # a GET only goes back to the page: nothing is pushed
    assert sandbox.state()["requests"].get("/cgi-bin/menu/create") is None
    page = client.post(url, follow=True).content.decode()
    assert "已完成：推送到微信。" in page
    assert [button["name"] for button in sandbox.state()["menus"][demo_menu.account.wechat_app_id]["button"]] == [
        "政务公开",
        "办事服务",
        "联系我们",
    ]
    entry = AuditLog.objects.get(action="wechat_menu.push")
    assert entry.actor == people["sysadmin"]
    assert WeChatMenu.objects.get(pk=demo_menu.pk).pushed_at is not None
