"""The callback server at /wechat/<account-id>/: WeChat's own crypto vectors, messages and events in
plaintext and safe mode, the previous EncodingAESKey, refusals (tampered, replayed, expired, oversized,
malformed), retry de-duplication, one-article news, and the reply while the message table and (with the account's
settings in memory) the account table are locked."""

import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import translation
from wechatpy.crypto import PrpCrypto
from wechatpy.replies import ArticlesReply

from publishing.channels import wechat_listen
from publishing.models import ChannelAccount, InboundMessage, WeChatEncryptionMode
from publishing.sandbox.follower import Follower, event_message, signed_request
from shared import redis_client

TOKEN = "cbtoken"  # tests/conftest.py make_account
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
QUESTION = "办理居住证需要什么材料"


@pytest.fixture(autouse=True)
def fresh_redis():
    redis_client.delete_matching("publishing:wechat-*")


@pytest.fixture
def stored(monkeypatch):
    """The storing tasks the callback enqueued (not run until `run()`)."""
    from publishing import tasks

    calls = []
    monkeypatch.setattr(tasks.store_inbound_message, "delay", lambda **kwargs: calls.append(kwargs))

    def run():
        for kwargs in calls:
            tasks.store_inbound_message.run(**kwargs)

    return SimpleNamespace(calls=calls, run=run)


@pytest.fixture
def account(make_account):
    return make_account(
        wechat_default_reply="您好，请留言。",
        wechat_acknowledgement="您好，请留言。",
        wechat_welcome_text="欢迎关注示范县发布！",
    )


def follower_of(client, account, aes_key=None, **kwargs):
    def transport(url, body):
        response = client.post(url, body, content_type="text/xml")
        return response.status_code, response.content

    url = reverse("wechat_listen", args=[account.pk])
    return Follower(url, token=TOKEN, appid=account.wechat_app_id, aes_key=aes_key, transport=transport, **kwargs)


# -- WeChat's sample vectors (wechatpy's test suite, tests/test_crypto.py) --------------------------------

VECTOR = {"token": "123456", "key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "appid": "wx49f0ab532d5d035a"}
VECTOR_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzx"
    "h6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQ"
    "qGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7"
    "FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)


def test_the_sample_url_check_signature_matches():
    echo = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
    expected = wechat_listen.signature(VECTOR["token"], "1411443780", "437374425", echo)
    assert expected == "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    assert not wechat_listen.same(wechat_listen.signature(VECTOR["token"], "1411443780", "437374424", echo), expected)


def test_the_sample_message_signature_matches_and_decrypts_with_either_key():
    assert (
        wechat_listen.signature(VECTOR["token"], "1411525903", "461056294", VECTOR_ENCRYPT)
        == "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    )
    # The sample key as the previous one: the current (other) key fails, the previous one opens it.
    account = SimpleNamespace(wechat_aes_key=KEY, wechat_aes_key_previous=VECTOR["key"], wechat_app_id=VECTOR["appid"])
    plain, key = wechat_listen._decrypt(account, VECTOR_ENCRYPT)
    assert key == VECTOR["key"]
    fields = wechat_listen.safe_xml(plain)
    assert (fields["Content"], fields["FromUserName"]) == ("test", "messense")


def test_the_sample_encryption_is_reproduced(monkeypatch):
    monkeypatch.setattr(PrpCrypto, "get_random_string", lambda self: "1234567890123456")
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
        "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    encrypted = PrpCrypto(wechat_listen.aes_key_bytes(VECTOR["key"])).encrypt(reply, VECTOR["appid"]).decode()
    assert encrypted == (
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtOb"
        "vesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8"
        "NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O"
        "5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
    )
    assert wechat_listen.signature(VECTOR["token"], "1411525903", "461056294", encrypted) == (
        "407518b7649e86ef23978113f92d27afa9296533"
    )


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("short", "EncodingAESKey必须是43个字符（字母和数字），当前为5个。"),
        (KEY[:-1] + "!", "EncodingAESKey无效：请从微信公众平台重新复制（只含字母和数字）。"),
    ],
)
def test_a_malformed_aes_key_gets_a_clear_chinese_reason(key, reason):
    with translation.override("zh-hans"):
        assert wechat_listen.aes_key_problem(key) == reason
    assert wechat_listen.aes_key_problem(KEY) is None


# -- the URL check and messages -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_url_check_echoes(client, account):
    query = signed_request("", token=TOKEN, appid=account.wechat_app_id)[0]
    url = reverse("wechat_listen", args=[account.pk])
    response = client.get(url, {**query, "echostr": "hello"})
    assert (response.status_code, response.content) == (200, b"hello")


@pytest.mark.django_db
def test_a_plaintext_message_gets_the_default_reply_and_is_stored_after(client, account, stored):
    exchange = follower_of(client, account).send_text(QUESTION, msg_id=42)
    assert exchange.status == 200
    assert exchange.fields["Content"] == "您好，请留言。"
    assert exchange.fields["ToUserName"] == "oSandboxFollower00000000001"
    assert InboundMessage.objects.count() == 0  # stored by the task, after the reply
    stored.run()
    message = InboundMessage.objects.get()
    assert (message.account_id, message.openid, message.msg_type, message.content, message.msg_id) == (
        account.pk, "oSandboxFollower00000000001", "text", QUESTION, "42",
    )  # fmt: skip
    # The default reply answers nothing: only a library entry answers automatically.
    assert message.answered_automatically is False and message.create_time is not None


@pytest.mark.django_db
def test_a_safe_mode_message_is_answered_encrypted(client, make_account, stored):
    safe = make_account(wechat_aes_key=KEY, wechat_encryption_mode=WeChatEncryptionMode.SAFE,
                        wechat_default_reply="已收到", wechat_acknowledgement="已收到")  # fmt: skip
    exchange = follower_of(client, safe, aes_key=KEY).send_text(QUESTION)
    assert exchange.status == 200 and b"<Encrypt>" in exchange.raw_reply
    assert exchange.fields["Content"] == "已收到"


@pytest.mark.django_db
def test_the_previous_aes_key_is_accepted_and_answered_with(client, make_account, stored):
    rotated = make_account(wechat_aes_key=KEY, wechat_aes_key_previous=OLD_KEY, wechat_default_reply="已收到", wechat_acknowledgement="已收到",
                           wechat_encryption_mode=WeChatEncryptionMode.SAFE)  # fmt: skip
    exchange = follower_of(client, rotated, aes_key=OLD_KEY).send_text(QUESTION)
    # The follower opens the answer with the old key only: it was encrypted with the key that worked.
    assert exchange.status == 200 and exchange.fields["Content"] == "已收到"


@pytest.mark.django_db
def test_safe_mode_refuses_a_plaintext_push(client, make_account, stored):
    safe = make_account(wechat_aes_key=KEY, wechat_encryption_mode=WeChatEncryptionMode.SAFE)
    exchange = follower_of(client, safe).send_text(QUESTION)
    assert exchange.status == 403 and stored.calls == []


# -- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tampered_encrypted_push_is_refused_and_nothing_stored(client, make_account, stored):
    safe = make_account(wechat_aes_key=KEY, wechat_encryption_mode=WeChatEncryptionMode.SAFE)
    follower = follower_of(client, safe, aes_key=KEY)
    first = follower.send_text(QUESTION)
    at = first.body.index("<Encrypt><![CDATA[") + 30  # one character of the ciphertext changed
    tampered = first.body[:at] + ("B" if first.body[at] == "A" else "A") + first.body[at + 1 :]
    query = {**first.query, "nonce": "9", "timestamp": str(int(time.time()))}
    exchange = follower._post(first.xml, query, tampered)
    assert exchange.status == 403 and exchange.raw_reply == b"invalid msg_signature"
    assert len(stored.calls) == 1  # the first push only


@pytest.mark.django_db
def test_a_replayed_push_is_refused(client, account, stored):
    follower = follower_of(client, account)
    first = follower.send_text(QUESTION)
    replay = follower.replay(first)
    assert (replay.status, replay.raw_reply) == (403, b"nonce already used")
    assert len(stored.calls) == 1


@pytest.mark.django_db
def test_an_expired_push_is_refused(client, account, stored):
    exchange = follower_of(client, account).push(
        event_message(to="gh", openid="o1", event="subscribe"), timestamp=int(time.time()) - 301
    )
    assert (exchange.status, exchange.raw_reply) == (403, b"timestamp too far from now")
    assert stored.calls == []


@pytest.mark.django_db
def test_an_oversized_push_is_refused(client, account, stored):
    exchange = follower_of(client, account).send_text("问" * 30000)
    assert exchange.status == 413 and stored.calls == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "xml",
    [
        "<xml><MsgType>text</MsgType",
        "not xml at all",
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>text</MsgType>'
        "<FromUserName>o</FromUserName><Content>&e;</Content></xml>",
        "<xml><Content>no type</Content></xml>",
    ],
)
def test_malformed_xml_is_a_bad_request(client, account, stored, xml):
    exchange = follower_of(client, account).push(xml)
    assert exchange.status == 400 and stored.calls == []


# -- retries and events -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_retried_message_gets_the_same_answer_and_is_stored_once(client, make_account, stored):
    safe = make_account(wechat_aes_key=KEY, wechat_default_reply="已收到", wechat_acknowledgement="已收到")
    follower = follower_of(client, safe, aes_key=KEY)
    first = follower.send_text(QUESTION)
    again = follower.retry(first)
    assert again.status == 200 and again.fields["Content"] == first.fields["Content"] == "已收到"
    assert len(stored.calls) == 1
    stored.run()
    stored.run()  # a task run twice still stores one row
    assert InboundMessage.objects.filter(account=safe).count() == 1


@pytest.mark.django_db
def test_subscribe_gets_the_welcome_once_per_push(client, account, stored):
    follower = follower_of(client, account)
    first = follower.send_event("subscribe")
    assert first.fields["Content"] == "欢迎关注示范县发布！"
    assert follower.retry(first).fields["Content"] == "欢迎关注示范县发布！"
    stored.run()
    assert list(InboundMessage.objects.values_list("msg_type", "event")) == [("event", "subscribe")]


@pytest.mark.django_db
def test_menu_click_gets_the_default_reply_and_view_and_unsubscribe_get_none(client, account, stored):
    follower = follower_of(client, account)
    assert follower.send_event("CLICK", "MENU_GUIDE").fields["Content"] == "您好，请留言。"
    assert follower.send_event("VIEW", "https://example.gov.cn/").reply == "success"
    assert follower.send_event("unsubscribe").reply == "success"
    stored.run()
    assert sorted(InboundMessage.objects.values_list("event", "event_key")) == [
        ("CLICK", "MENU_GUIDE"), ("VIEW", "https://example.gov.cn/"), ("unsubscribe", ""),
    ]  # fmt: skip


@pytest.mark.django_db
def test_an_unknown_message_type_gets_the_default_reply(client, account, stored):
    xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
    xml += "<MsgType>hologram</MsgType><MsgId>7</MsgId></xml>"
    assert follower_of(client, account).push(xml).fields["Content"] == "您好，请留言。"


@pytest.mark.django_db
def test_masssendjobfinish_goes_to_the_delivery_report(client, account, stored, monkeypatch):
    from publishing import services

    reports = []
    monkeypatch.setattr(services, "delivery_record_report", lambda **kwargs: reports.append(kwargs) or 1)
    xml = event_message(to="gh", openid="system", event="MASSSENDJOBFINISH", extra={
        "MsgID": "1000001", "Status": "send success", "TotalCount": 10, "FilterCount": 10, "SentCount": 9,
        "ErrorCount": 1})  # fmt: skip
    assert follower_of(client, account).push(xml).reply == "success"
    assert reports[0]["msg_id"] == "1000001" and reports[0]["status"] == "send success"
    assert reports[0]["counts"] == {"total": 10, "filter": 10, "sent": 9, "error": 1}


@pytest.mark.django_db
def test_publishjobfinish_is_stored_with_its_fields(client, account, stored):
    info = "<publish_id>2247483799</publish_id><publish_status>0</publish_status><article_id>A1</article_id>"
    xml = event_message(to="gh", openid="system", event="PUBLISHJOBFINISH", extra={"PublishEventInfo": info})
    assert follower_of(client, account).push(xml).reply == "success"
    stored.run()
    message = InboundMessage.objects.get(event="PUBLISHJOBFINISH")
    assert message.payload["PublishEventInfo"]["publish_id"] == "2247483799"
    assert message.answered_automatically is False


def test_a_news_reply_carries_one_article():
    message = SimpleNamespace(source="o1", target="gh", type="text")
    reply = ArticlesReply(message=message)
    for number in range(3):
        reply.add_article({"title": f"第{number}篇", "description": "", "image": "", "url": "https://x.gov.cn/"})
    xml = wechat_listen.render_reply(reply)
    assert "<ArticleCount>1</ArticleCount>" in xml and "第0篇" in xml and "第1篇" not in xml
    assert "<ArticleCount>1</ArticleCount>" in wechat_listen.render_reply(wechat_listen.news_reply(message, title="一"))


# -- the reply does not wait for the database ---------------------------------------------------------------


@contextmanager
def tables_locked(*models):
    """Another session (as another process would) holds ACCESS EXCLUSIVE locks on the models' tables; this
    session gives up on any lock after 1 s, so a reply path that touched a locked table fails the request
    instead of hanging the test: a reply that comes back touched none of them (the budget, without timing)."""
    from django.db import connections

    locker = connections.create_connection("default")
    try:
        locker.set_autocommit(False)
        for model in models:
            locker.cursor().execute(f"LOCK TABLE {model._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        yield
    finally:
        locker.rollback()
        locker.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_the_reply_comes_back_while_the_message_table_is_locked(client, account, stored):
    with tables_locked(InboundMessage):
        exchange = follower_of(client, account).send_text(QUESTION)
        assert exchange.status == 200 and exchange.fields["Content"] == "您好，请留言。"
    stored.run()
    assert InboundMessage.objects.filter(account=account).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_reply_comes_back_while_the_account_table_is_locked_once_its_settings_are_in_memory(
    client, account, stored, monkeypatch
):
    follower = follower_of(client, account)
    assert follower.send_text("第一条留言").fields["Content"] == "您好，请留言。"  # loads the account's settings
    with tables_locked(InboundMessage, ChannelAccount):
        exchange = follower.send_text(QUESTION)
        assert exchange.status == 200 and exchange.fields["Content"] == "您好，请留言。"
        # Past the settings' lifetime the row is read again; that read gives up at its own timeout and the copy
        # in memory answers.
        monkeypatch.setattr(wechat_listen, "CALLBACK_SETTINGS_TTL_SECONDS", 0)
        later = follower.send_text("又一条留言")
        assert later.status == 200 and later.fields["Content"] == "您好，请留言。"
    monkeypatch.undo()
    stored.run()
    assert InboundMessage.objects.filter(account=account).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_cold_process_reads_the_account_row_and_waits_for_a_locked_table(client, account):
    """Documented: the first push a process gets for an account reads its row, so it waits for the database (here
    the 1 s lock timeout ends the wait with an error; WeChat would retry the push)."""
    wechat_listen.forget_callback_accounts()
    with tables_locked(ChannelAccount):
        with pytest.raises(OperationalError):
            follower_of(client, account).send_text(QUESTION)


@pytest.mark.django_db(transaction=True)
def test_a_saved_account_is_read_again_by_the_next_push(client, account, stored):
    follower = follower_of(client, account)
    assert follower.send_text("第一条留言").fields["Content"] == "您好，请留言。"
    account.wechat_acknowledgement = "已收到，将在两个工作日内答复。"
    account.save(update_fields=["wechat_acknowledgement"])  # bumps the version after commit
    assert follower.send_text(QUESTION).fields["Content"] == "已收到，将在两个工作日内答复。"


@pytest.mark.django_db
def test_the_admin_form_refuses_a_malformed_aes_key_in_chinese(administrator, login, make_account):
    from tests.publishing.test_channel_account_secrets import _post

    account = make_account()
    with translation.override("zh-hans"):
        response = _post(login(administrator), account, wechat_aes_key="tooshort", wechat_encryption_mode="safe")
    assert response.status_code == 200
    assert "EncodingAESKey必须是43个字符（字母和数字），当前为8个。" in response.content.decode()
    account.refresh_from_db()
    assert account.wechat_aes_key == "" and account.wechat_encryption_mode == WeChatEncryptionMode.PLAINTEXT


@pytest.mark.django_db
def test_the_admin_form_stores_a_valid_aes_key_encrypted(administrator, login, make_account):
    from tests.publishing.test_channel_account_secrets import _post

    account = make_account()
    response = _post(login(administrator), account, wechat_aes_key=KEY, wechat_aes_key_previous=OLD_KEY,
                     wechat_encryption_mode="safe", wechat_welcome_text="欢迎！")  # fmt: skip
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.wechat_aes_key, account.wechat_aes_key_previous) == (KEY, OLD_KEY)
    assert (account.wechat_encryption_mode, account.wechat_welcome_text) == ("safe", "欢迎！")
    with connection.cursor() as cursor:
        cursor.execute("SELECT wechat_aes_key FROM publishing_channelaccount WHERE id = %s", [account.pk])
        assert KEY not in cursor.fetchone()[0]


# -- the sandbox's follower over real HTTP (as in the demo) ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_follower_talks_to_the_callback_over_http(live_server, make_account, stored, capsys):
    from publishing.sandbox import follower

    safe = make_account(wechat_aes_key=KEY, wechat_encryption_mode=WeChatEncryptionMode.SAFE,
                        wechat_default_reply="已收到", wechat_acknowledgement="已收到", wechat_welcome_text="欢迎！")  # fmt: skip
    url = live_server.url + reverse("wechat_listen", args=[safe.pk])
    follower.main([url, "--token", TOKEN, "--appid", safe.wechat_app_id, "--aes-key", KEY, "--text", QUESTION,
                   "--retry", "--replay"])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["push: HTTP 200 已收到", "retry: HTTP 200 已收到", "replay: HTTP 403 nonce already used"]
    subscribed = follower.Follower(url, token=TOKEN, appid=safe.wechat_app_id, aes_key=KEY).send_event("subscribe")
    assert subscribed.fields["Content"] == "欢迎！"
    assert len(stored.calls) == 2  # the text once (not its retry or replay), the subscribe once


@pytest.mark.django_db
def test_a_push_that_failed_inside_is_answered_afresh_on_its_retry(client, account, stored, monkeypatch):
    real = wechat_listen.answer_for
    monkeypatch.setattr(wechat_listen, "answer_for", lambda account, message: 1 / 0)
    follower = follower_of(client, account)
    xml = event_message(to="gh", openid="o1", event="CLICK", event_key="K", create_time=1800000000)
    with pytest.raises(ZeroDivisionError):
        follower.push(xml)
    monkeypatch.setattr(wechat_listen, "answer_for", real)
    # Neither "success" from a stale marker nor a refusal: the retry is taken in and answered.
    assert follower.push(xml).fields["Content"] == "您好，请留言。"
    assert len(stored.calls) == 1
