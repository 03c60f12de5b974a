"""The WeChat callback refuses what is not a fresh, authentic call from WeChat: a bad signature, a
timestamp more than five minutes off, a nonce seen before, and a safe-mode push the account cannot
decrypt (no EncodingAESKey, or a malformed one) are each refused plainly, never with a 500."""

import secrets
import time

import pytest
import xmltodict
from django.urls import reverse
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from shared import redis_client

pytestmark = pytest.mark.django_db

TOKEN = "cbtoken"  # tests/conftest.py make_account
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters: 32 bytes
REPORT = """<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName><FromUserName><![CDATA[system]]></FromUserName>
<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event>
<MsgID>1000001</MsgID><Status><![CDATA[send success]]></Status><TotalCount>10</TotalCount><FilterCount>10</FilterCount>
<SentCount>10</SentCount><ErrorCount>0</ErrorCount></xml>"""


@pytest.fixture(autouse=True)
def fresh_nonces():
    redis_client.delete_matching("publishing:wechat-nonce:*")


def sign(*parts) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signed_query(*, token=TOKEN, timestamp=None, nonce=None, **extra) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(8)
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}


def url_for(account, query: dict) -> str:
    from urllib.parse import urlencode

    return reverse("publishing:wechat_callback", args=[account.pk]) + "?" + urlencode(query)


def push(client, account, body: str, query: dict):
    return client.post(url_for(account, query), body.encode(), content_type="text/xml")


@pytest.fixture
def account(make_account):
    return make_account()


def test_a_fresh_signed_url_check_is_answered_with_the_echo(client, account):
    response = client.get(url_for(account, signed_query(echostr="hello")))
    assert response.status_code == 200 and response.content == b"hello"


def test_a_fresh_signed_push_is_taken_in(client, account):
    assert push(client, account, REPORT, signed_query()).status_code == 200


def test_a_bad_signature_is_refused(client, account):
    query = {**signed_query(echostr="hello"), "signature": "0" * 40}
    assert client.get(url_for(account, query)).status_code == 403


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_timestamp_more_than_five_minutes_off_is_refused_even_when_signed(client, account, offset):
    query = signed_query(timestamp=int(time.time()) + offset, echostr="hello")
    response = client.get(url_for(account, query))
    assert response.status_code == 403 and response.content == b"timestamp too far from now"


def test_a_timestamp_that_is_not_a_number_is_refused(client, account):
    assert client.get(url_for(account, signed_query(timestamp="soon", echostr="x"))).status_code == 403


def test_a_replayed_push_is_refused(client, account):
    query = signed_query()
    assert push(client, account, REPORT, query).status_code == 200
    replay = push(client, account, REPORT, query)
    assert replay.status_code == 403 and replay.content == b"nonce already used"


def test_a_nonce_is_remembered_per_account(client, account, make_account):
    other = make_account("示范县服务")
    query = signed_query()
    assert push(client, account, REPORT, query).status_code == 200
    assert push(client, other, REPORT, query).status_code == 200


def test_an_unsigned_call_does_not_use_up_a_nonce(client, account):
    query = signed_query(echostr="x")
    assert client.get(url_for(account, {**query, "signature": "f" * 40})).status_code == 403
    assert client.get(url_for(account, query)).status_code == 200


def test_an_account_without_a_token_refuses_every_call(client, make_account):
    tokenless = make_account("无令牌账号", wechat_token="")
    response = client.get(url_for(tokenless, signed_query(token="", echostr="x")))
    assert response.status_code == 403


def test_an_encrypted_push_without_an_aes_key_is_refused_not_a_500(client, account):
    query = signed_query(encrypt_type="aes", msg_signature="0" * 40)
    response = push(client, account, "<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>", query)
    assert response.status_code == 403
    assert b"no EncodingAESKey" in response.content


@pytest.mark.parametrize("bad_key", ["short", AES_KEY[:-1] + "!", AES_KEY + "A"])
def test_an_encrypted_push_with_a_malformed_aes_key_is_refused_not_a_500(client, make_account, bad_key):
    broken = make_account("密钥错误账号", wechat_aes_key=bad_key)
    query = signed_query(encrypt_type="aes", msg_signature="0" * 40)
    assert push(client, broken, "<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>", query).status_code == 403


def encrypted(account, query) -> tuple[str, dict]:
    crypto = WeChatCrypto(TOKEN, AES_KEY, account.wechat_app_id)
    envelope = xmltodict.parse(crypto.encrypt_message(REPORT, query["nonce"], query["timestamp"]))["xml"]
    return (
        f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>",
        {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]},
    )


def test_an_encrypted_push_with_the_key_is_decrypted(client, make_account):
    safe = make_account("安全模式账号", wechat_aes_key=AES_KEY)
    body, query = encrypted(safe, signed_query())
    assert push(client, safe, body, query).status_code == 200


def test_an_encrypted_push_with_a_wrong_msg_signature_is_refused(client, make_account):
    safe = make_account("安全模式账号", wechat_aes_key=AES_KEY)
    body, query = encrypted(safe, signed_query())
    query["msg_signature"] = "0" * 40
    assert push(client, safe, body, query).status_code == 403


def test_an_unknown_encrypt_type_is_a_bad_request(client, account):
    assert push(client, account, REPORT, signed_query(encrypt_type="rot13")).status_code == 400
