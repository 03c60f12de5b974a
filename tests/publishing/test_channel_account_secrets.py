"""Stored platform secrets go only where they were typed for: a new address or app id needs the secret
again, and only the platforms' own hosts, the sandbox or an allowed host are accepted. View-only staff
see whether a secret is stored, never its value."""

import pytest
from django.urls import reverse

from publishing.models import ChannelAccount, Platform

pytestmark = pytest.mark.django_db


def _form_data(account, **changes):
    data = {
        "name": account.name,
        "platform": account.platform,
        "department": account.department_id,
        "is_active": "on",
        "api_base_url": account.api_base_url,
        "wechat_account_type": account.wechat_account_type,
        "weibo_uid": account.weibo_uid,
        "weibo_safe_domain": account.weibo_safe_domain,
        "window_start": "",
        "window_end": "",
        "min_gap_minutes": "",
        "quota_rules-TOTAL_FORMS": "0",
        "quota_rules-INITIAL_FORMS": "0",
        "quota_rules-MIN_NUM_FORMS": "0",
        "quota_rules-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def _post(client, account, **changes):
    return client.post(
        reverse("admin:publishing_channelaccount_change", args=[account.pk]), _form_data(account, **changes)
    )


@pytest.fixture
def admin_client_(administrator, login):
    return login(administrator)


def test_changing_only_the_base_url_requires_the_secret_again(admin_client_, make_account, settings):
    settings.PUBLISHING_EXTRA_API_HOSTS = ["proxy.example.gov.cn"]
    account = make_account(wechat_app_secret="real-secret", api_base_url="https://api.weixin.qq.com/")
    response = _post(admin_client_, account, api_base_url="https://proxy.example.gov.cn/")
    assert response.status_code == 200
    assert "请重新输入" in response.content.decode()
    account.refresh_from_db()
    assert account.api_base_url == "https://api.weixin.qq.com/" and account.wechat_app_secret == "real-secret"


def test_base_url_change_with_the_secret_typed_again_is_saved(admin_client_, make_account, settings):
    settings.PUBLISHING_EXTRA_API_HOSTS = ["proxy.example.gov.cn"]
    account = make_account(wechat_app_secret="real-secret")
    response = _post(
        admin_client_, account, api_base_url="https://proxy.example.gov.cn/", wechat_app_secret="secret-for-proxy"
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    account.refresh_from_db()
    assert account.api_base_url == "https://proxy.example.gov.cn/" and account.wechat_app_secret == "secret-for-proxy"


def test_changing_the_wechat_app_id_requires_the_secret_again(admin_client_, make_account):
    account = make_account(wechat_app_id="wxold0000000000001", wechat_app_secret="real-secret")
    response = _post(admin_client_, account, wechat_app_id="wxnew0000000000002")
    assert response.status_code == 200 and "请重新输入" in response.content.decode()
    account.refresh_from_db()
    assert account.wechat_app_id == "wxold0000000000001"


def test_changing_the_weibo_base_url_requires_the_access_token_again(admin_client_, make_account, settings):
    account = make_account(name="示范县微博", platform=Platform.WEIBO, api_base_url="https://api.weibo.com/")
    response = _post(admin_client_, account, api_base_url=settings.SANDBOX_URL)
    assert response.status_code == 200 and "请重新输入" in response.content.decode()
    response = _post(admin_client_, account, api_base_url=settings.SANDBOX_URL, weibo_access_token="new-token")
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.api_base_url == settings.SANDBOX_URL and account.weibo_access_token == "new-token"


def test_unchanged_address_keeps_the_stored_secret(admin_client_, make_account):
    account = make_account(wechat_app_secret="real-secret", api_base_url="https://api.weixin.qq.com/")
    response = _post(admin_client_, account, name="改名后的账号")
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "改名后的账号" and account.wechat_app_secret == "real-secret"


@pytest.mark.parametrize(
    "url",
    [
        "https://attacker.example.com/",
        "http://api.weixin.qq.com/",  # the official host, but not over HTTPS
        "https://api.weixin.qq.com.attacker.example.com/",
        "https://api.weibo.com/",  # Weibo's host for a WeChat account
        "http://127.0.0.1:8101/",  # next to the sandbox, not the sandbox
    ],
)
def test_addresses_outside_the_official_hosts_and_sandbox_are_refused(admin_client_, make_account, url):
    account = make_account(wechat_app_secret="real-secret", api_base_url="")
    response = _post(admin_client_, account, api_base_url=url, wechat_app_secret="typed-again")
    page = response.content.decode()
    assert response.status_code == 200 and "PUBLISHING_EXTRA_API_HOSTS" in page and "官方接口地址" in page
    account.refresh_from_db()
    assert account.api_base_url == "" and account.wechat_app_secret == "real-secret"


@pytest.mark.parametrize("url", ["https://api2.weixin.qq.com/", "https://sh.api.weixin.qq.com/", "SANDBOX"])
def test_official_alternates_and_the_sandbox_are_accepted(admin_client_, make_account, settings, url):
    url = settings.SANDBOX_URL if url == "SANDBOX" else url
    account = make_account(wechat_app_secret="real-secret", api_base_url="")
    response = _post(admin_client_, account, api_base_url=url, wechat_app_secret="typed-again")
    assert response.status_code == 302, response.content.decode()[:3000]
    account.refresh_from_db()
    assert account.api_base_url == url


def test_a_new_account_on_an_unlisted_host_is_refused(admin_client_, county):
    response = admin_client_.post(
        reverse("admin:publishing_channelaccount_add"),
        {
            "name": "新账号",
            "platform": Platform.WECHAT,
            "department": county["office"].pk,
            "is_active": "on",
            "api_base_url": "https://collector.example.net/",
            "wechat_account_type": "subscription",
            "wechat_app_id": "wx1234567890abcdef",
            "wechat_app_secret": "secret",
            "quota_rules-TOTAL_FORMS": "0",
            "quota_rules-INITIAL_FORMS": "0",
            "quota_rules-MIN_NUM_FORMS": "0",
            "quota_rules-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200 and "PUBLISHING_EXTRA_API_HOSTS" in response.content.decode()
    assert not ChannelAccount.objects.filter(name="新账号").exists()


def test_editor_views_the_account_without_seeing_its_secrets(editor, make_account, login):
    account = make_account(wechat_app_id="wxvisible00000001", wechat_app_secret="top-secret-value")
    response = login(editor).get(reverse("admin:publishing_channelaccount_change", args=[account.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert account.name in page
    assert "top-secret-value" not in page and "wxvisible00000001" not in page and "cbtoken" not in page
    assert "已保存，不予显示" in page


def test_editor_cannot_change_the_account(editor, make_account, login):
    account = make_account(wechat_app_secret="real-secret")
    response = _post(login(editor), account, api_base_url="", wechat_app_secret="mine-now")
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.wechat_app_secret == "real-secret"
