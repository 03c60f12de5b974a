"""A follower writing to an official account, as WeChat delivers it to the account's callback URL:
signed user messages and events, in plaintext or AES-encrypted (safe mode), and the two repeats the
callback must survive: WeChat's retry of the same push (same XML, new timestamp and nonce) and an
attacker's replay (the very same request again).

    follower = Follower(url, token=..., appid=..., aes_key=...)   # aes_key=None: plaintext mode
    first = follower.send_text("办理居住证需要什么材料")
    first.reply            # the account's answer (decrypted), "" / "success" for none
    follower.retry(first)  # WeChat's retry: must get the same answer, nothing stored twice
    follower.replay(first) # the captured request again: must be refused (403)

CLI: python -m publishing.sandbox.follower URL --token T --appid A [--aes-key K] [--sandbox-url S]
     (--text TEXT | --event subscribe)
"""

import argparse
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import xmltodict
from wechatpy.crypto import WeChatCrypto

from publishing.sandbox import common
from publishing.sandbox.wechat import sign

_msg_ids = itertools.count(int(time.time() * 1000))


def _cdata(value: str) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_message(*, to: str, openid: str, content: str, msg_id: int | None = None, create_time=None) -> str:
    return (
        f"<xml><ToUserName>{_cdata(to)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(create_time or time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content><MsgId>{msg_id or next(_msg_ids)}</MsgId></xml>"
    )


def event_message(*, to: str, openid: str, event: str, event_key: str = "", create_time=None, extra=None) -> str:
    """An event (subscribe, unsubscribe, CLICK, VIEW, MASSSENDJOBFINISH, PUBLISHJOBFINISH, ...); `extra`
    adds elements as they are (name -> text, or name -> ready XML for nested ones)."""
    more = "".join(
        f"<{name}>{value if str(value).startswith('<') else escape(str(value))}</{name}>"
        for name, value in (extra or {}).items()
    )
    key = f"<EventKey>{_cdata(event_key)}</EventKey>" if event_key else ""
    return (
        f"<xml><ToUserName>{_cdata(to)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(create_time or time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event>{_cdata(event)}</Event>{key}{more}</xml>"
    )


def signed_request(xml: str, *, token: str, appid: str, aes_key: str | None = None, timestamp=None, nonce=None):
    """(query, body) of WeChat's POST: `signature` always; in safe mode the body is the Encrypt envelope
    and `msg_signature` signs the ciphertext."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if not aes_key:
        return query, xml
    envelope = xmltodict.parse(WeChatCrypto(token, aes_key, appid).encrypt_message(xml, nonce, timestamp))["xml"]
    body = f"<xml><ToUserName>{_cdata(appid)}</ToUserName><Encrypt>{_cdata(envelope['Encrypt'])}</Encrypt></xml>"
    return {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}, body


def http_post(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    return common.http_post(url, body, content_type="text/xml", timeout=timeout)


@dataclass
class Exchange:
    xml: str  # the push before encryption
    query: dict
    body: str
    status: int
    raw_reply: bytes
    reply: str = ""  # the answer's XML, decrypted; "success" or "" for no answer
    fields: dict = field(default_factory=dict)  # the answer's fields (Content, MsgType, ...)


class Follower:
    """One follower of one account; `transport(url, body) -> (status, bytes)` defaults to HTTP."""

    def __init__(self, url, *, token, appid, aes_key=None, openid="oSandboxFollower00000000001",
                 original_id="gh_sandbox", transport=http_post, sandbox_url=None):  # fmt: skip
        self.url, self.token, self.appid, self.aes_key = url, token, appid, aes_key
        self.openid, self.original_id, self.transport = openid, original_id, transport
        # The API sandbox playing WeChat: told of each message, so its message/custom/send window opens.
        self.sandbox_url = sandbox_url

    def send_text(self, content: str, **kwargs) -> Exchange:
        if self.sandbox_url:
            self._tell_sandbox()
        return self.push(text_message(to=self.original_id, openid=self.openid, content=content, **kwargs))

    def _tell_sandbox(self):
        body = json.dumps({"appid": self.appid, "openid": self.openid}).encode()
        url = self.sandbox_url.rstrip("/") + "/_sandbox/follower_message"
        status, answer = common.http_post(url, body, content_type="application/json", timeout=5)
        if status != 200:
            raise RuntimeError(f"the sandbox refused the follower's message: HTTP {status} {answer[:200]!r}")

    def send_event(self, event: str, event_key: str = "", **kwargs) -> Exchange:
        return self.push(event_message(to=self.original_id, openid=self.openid, event=event, event_key=event_key,
                                       **kwargs))  # fmt: skip

    def push(self, xml: str, **signing) -> Exchange:
        query, body = signed_request(xml, token=self.token, appid=self.appid, aes_key=self.aes_key, **signing)
        return self._post(xml, query, body)

    def retry(self, exchange: Exchange) -> Exchange:
        """WeChat's retry: the same push, signed again with a fresh timestamp and nonce."""
        return self.push(exchange.xml)

    def replay(self, exchange: Exchange) -> Exchange:
        """An attacker's replay: the captured request, byte for byte."""
        return self._post(exchange.xml, exchange.query, exchange.body)

    def _post(self, xml, query, body) -> Exchange:
        status, raw = self.transport(self.url + ("&" if "?" in self.url else "?") + urlencode(query), body.encode())
        exchange = Exchange(xml=xml, query=query, body=body, status=status, raw_reply=raw)
        if status == 200 and raw.strip().startswith(b"<"):
            exchange.reply = self._open(raw)
            exchange.fields = dict(xmltodict.parse(exchange.reply)["xml"])
        elif status == 200:
            exchange.reply = raw.decode()
        return exchange

    def _open(self, raw: bytes) -> str:
        if not self.aes_key:
            return raw.decode()
        envelope = xmltodict.parse(raw)["xml"]
        crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
        return crypto.decrypt_message(raw, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m publishing.sandbox.follower", description=__doc__.split("\n")[0])
    parser.add_argument("url", help="the account's callback URL, e.g. http://127.0.0.1:8000/wechat/1/")
    parser.add_argument("--token", required=True)
    parser.add_argument("--appid", required=True)
    parser.add_argument("--aes-key", help="EncodingAESKey: send encrypted (safe mode)")
    parser.add_argument("--openid", default="oSandboxFollower00000000001")
    parser.add_argument("--sandbox-url", help="the API sandbox (e.g. http://127.0.0.1:8100/): opens its reply window")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--text")
    what.add_argument("--event", help="subscribe, unsubscribe, CLICK, VIEW, ...")
    parser.add_argument("--event-key", default="")
    parser.add_argument("--retry", action="store_true", help="then send WeChat's retry of the same push")
    parser.add_argument("--replay", action="store_true", help="then replay the very same request")
    args = parser.parse_args(argv)
    follower = Follower(args.url, token=args.token, appid=args.appid, aes_key=args.aes_key, openid=args.openid,
                        sandbox_url=args.sandbox_url)  # fmt: skip
    first = follower.send_text(args.text) if args.text else follower.send_event(args.event, args.event_key)
    exchanges = [("push", first)]
    if args.retry:
        exchanges.append(("retry", follower.retry(first)))
    if args.replay:
        exchanges.append(("replay", follower.replay(first)))
    for name, exchange in exchanges:
        # One line each: the answer's text (or its type), else what came back.
        said = exchange.fields.get("Content") or exchange.fields.get("MsgType")
        said = said or exchange.reply or exchange.raw_reply.decode(errors="replace")
        print(f"{name}: HTTP {exchange.status} {' '.join(str(said).split())}")  # noqa: T201


if __name__ == "__main__":
    main()
