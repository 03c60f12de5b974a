"""The sandbox keeps the WeChat rules our channels rely on, and its controls do what drills need."""

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from wechatpy import parse_message
from wechatpy.utils import check_signature

from publishing.sandbox.common import SHANGHAI
from tests.publishing.conftest import WECHAT_APPID, WECHAT_SECRET, news_article

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048


def call(sandbox, endpoint, token=None, *, json=None, files=None, params=None, method="post"):
    query = dict(params or {})
    if token:
        query["access_token"] = token
    answer = requests.request(method, sandbox.url + endpoint, params=query, json=json, files=files, timeout=5)
    return answer.json()


def stable_token(sandbox, appid=WECHAT_APPID, secret=WECHAT_SECRET, force_refresh=False):
    payload = {"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force_refresh}
    return call(sandbox, "cgi-bin/stable_token", json=payload)


def cover(sandbox, token):
    return call(
        sandbox, "cgi-bin/material/add_material", token, params={"type": "image"}, files={"media": ("c.jpg", JPEG)}
    )


def draft(sandbox, token, count=1):
    media_id = cover(sandbox, token)["media_id"]
    return call(sandbox, "cgi-bin/draft/add", token, json={"articles": [news_article(media_id)] * count})["media_id"]


def sendall(sandbox, token, media_id, clientmsgid, *, tag_id=None):
    audience = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
    payload = {
        "filter": audience,
        "mpnews": {"media_id": media_id},
        "msgtype": "mpnews",
        "send_ignore_reprint": 0,
        "clientmsgid": clientmsgid,
    }
    return call(sandbox, "cgi-bin/message/mass/sendall", token, json=payload)


@pytest.fixture
def token(sandbox):
    sandbox.register_wechat()
    return stable_token(sandbox)["access_token"]


# -- access tokens ---------------------------------------------------------------------------------------
def test_stable_token_returns_the_same_token_until_its_last_five_minutes(sandbox):
    sandbox.register_wechat()
    first = stable_token(sandbox)
    assert first["expires_in"] == 7200
    again = stable_token(sandbox)
    assert again["access_token"] == first["access_token"] and again["expires_in"] <= 7200

    sandbox.clock(7200 - 299)
    renewed = stable_token(sandbox)
    assert renewed["access_token"] != first["access_token"] and renewed["expires_in"] == 7200
    assert call(sandbox, "cgi-bin/message/mass/get", first["access_token"], json={"msg_id": 1})["errcode"] != 40001
    assert sandbox.state()["stable_token_calls"] == {WECHAT_APPID: 3}


def test_forced_stable_token_ends_the_previous_token_at_once(sandbox):
    sandbox.register_wechat()
    first = stable_token(sandbox)["access_token"]
    forced = stable_token(sandbox, force_refresh=True)["access_token"]
    assert forced != first
    assert call(sandbox, "cgi-bin/message/mass/get", first, json={"msg_id": 1})["errcode"] == 40001
    assert sandbox.state()["stable_token_force_refreshes"] == {WECHAT_APPID: 1}


def test_a_new_token_fetch_invalidates_the_previous_token_after_the_overlap(sandbox):
    sandbox.register_wechat()
    sandbox.config(token_overlap_seconds=300)
    fetch = {"grant_type": "client_credential", "appid": WECHAT_APPID, "secret": WECHAT_SECRET}
    old = call(sandbox, "cgi-bin/token", params=fetch, method="get")["access_token"]
    new = call(sandbox, "cgi-bin/token", params=fetch, method="get")["access_token"]
    assert call(sandbox, "cgi-bin/message/mass/get", old, json={"msg_id": 1})["errcode"] == 40007  # still valid

    sandbox.clock(301)
    assert call(sandbox, "cgi-bin/message/mass/get", old, json={"msg_id": 1})["errcode"] == 40001
    assert call(sandbox, "cgi-bin/message/mass/get", new, json={"msg_id": 1})["errcode"] == 40007
    assert sandbox.state()["token_fetches"] == {WECHAT_APPID: 2}


def test_an_expired_token_answers_42001(sandbox, token):
    sandbox.clock(7201)
    assert call(sandbox, "cgi-bin/message/mass/get", token, json={"msg_id": 1})["errcode"] == 42001


def test_wrong_secret_and_unknown_appid_are_refused(sandbox):
    sandbox.register_wechat()
    assert stable_token(sandbox, secret="wrong")["errcode"] == 40125
    assert stable_token(sandbox, appid="wx-unknown")["errcode"] == 40013
    assert call(sandbox, "cgi-bin/message/mass/get", "made-up-token", json={"msg_id": 1})["errcode"] == 40001


# -- mass-send quota and idempotency ------------------------------------------------------------------------
def test_subscription_account_has_one_mass_send_per_shanghai_day(sandbox, token):
    # 23:59 in Shanghai is 15:59 UTC: the next Shanghai day starts while UTC is still on the same date.
    sandbox.clock(at=datetime(2026, 3, 2, 23, 59, 0, tzinfo=SHANGHAI))
    media_id = draft(sandbox, token)
    assert sendall(sandbox, token, media_id, "first")["errcode"] == 0
    assert sendall(sandbox, token, media_id, "second") == {"errcode": 45028, "errmsg": "has no masssend quota"}

    sandbox.clock(at=datetime(2026, 3, 3, 0, 0, 30, tzinfo=SHANGHAI))
    assert sendall(sandbox, token, media_id, "next-day")["errcode"] == 0
    assert [send["quota_period"] for send in sandbox.sends(WECHAT_APPID)] == ["2026-03-02", "2026-03-03"]


def test_service_account_has_four_mass_sends_per_shanghai_month(sandbox):
    sandbox.register_wechat(type="service")
    sandbox.clock(at=datetime(2026, 1, 31, 23, 0, tzinfo=SHANGHAI))
    token = stable_token(sandbox)["access_token"]
    media_id = draft(sandbox, token)
    for number in range(4):
        assert sendall(sandbox, token, media_id, f"january-{number}")["errcode"] == 0
    assert sendall(sandbox, token, media_id, "january-4")["errcode"] == 45028

    sandbox.clock(at=datetime(2026, 2, 1, 0, 0, 30, tzinfo=SHANGHAI))
    assert sendall(sandbox, token, media_id, "february-0")["errcode"] == 0


def test_repeated_clientmsgid_returns_the_original_msg_id_without_sending_again(sandbox, token):
    media_id = draft(sandbox, token)
    first = sendall(sandbox, token, media_id, "delivery-uuid")
    repeat = sendall(sandbox, token, media_id, "delivery-uuid")
    assert repeat == {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": first["msg_id"]}
    assert len(sandbox.sends()) == 1


def test_repeated_clientmsgid_is_recognised_even_when_the_quota_is_used_up(sandbox, token):
    media_id = draft(sandbox, token)
    first = sendall(sandbox, token, media_id, "delivery-uuid")
    assert sendall(sandbox, token, media_id, "delivery-uuid")["msg_id"] == first["msg_id"]


def test_clientmsgid_is_remembered_for_24_hours(sandbox):
    sandbox.register_wechat(type="service")
    token = stable_token(sandbox)["access_token"]
    media_id = draft(sandbox, token)
    sendall(sandbox, token, media_id, "delivery-uuid")
    sandbox.clock(24 * 3600 + 1)
    token = stable_token(sandbox)["access_token"]
    assert sendall(sandbox, token, media_id, "delivery-uuid")["errcode"] == 0


def test_clientmsgid_longer_than_64_bytes_is_refused(sandbox, token):
    media_id = draft(sandbox, token)
    assert sendall(sandbox, token, media_id, "号" * 22)["errcode"] == 45067  # 66 bytes in UTF-8
    assert sendall(sandbox, token, media_id, "x" * 64)["errcode"] == 0


def test_sendall_needs_a_draft_of_the_same_account(sandbox, token):
    assert sendall(sandbox, token, "not-a-draft", "a")["errcode"] == 40007
    sandbox.register_wechat(appid="wx-other", secret="other")
    other = stable_token(sandbox, appid="wx-other", secret="other")["access_token"]
    assert sendall(sandbox, other, draft(sandbox, token), "b")["errcode"] == 40007


def test_send_to_a_tag_records_the_tag_and_unknown_tags_are_refused(sandbox):
    sandbox.register_wechat(tags={"7": 120})
    token = stable_token(sandbox)["access_token"]
    media_id = draft(sandbox, token)
    assert sendall(sandbox, token, media_id, "a", tag_id=8)["errcode"] == 45159
    assert sendall(sandbox, token, media_id, "b", tag_id=7)["errcode"] == 0
    (send,) = sandbox.sends()
    assert (send["is_to_all"], send["tag_id"], send["audience_size"]) == (False, 7, 120)
    assert send["articles"][0]["title"] == "县政府召开常务会议"


def test_mass_get_knows_only_the_accounts_own_messages(sandbox, token):
    msg_id = sendall(sandbox, token, draft(sandbox, token), "a")["msg_id"]
    assert call(sandbox, "cgi-bin/message/mass/get", token, json={"msg_id": msg_id}) == {
        "msg_id": msg_id,
        "msg_status": "SEND_SUCCESS",
    }
    sandbox.register_wechat(appid="wx-other", secret="other")
    other = stable_token(sandbox, appid="wx-other", secret="other")["access_token"]
    assert call(sandbox, "cgi-bin/message/mass/get", other, json={"msg_id": msg_id})["errcode"] == 40007


# -- drafts and images ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields, errcode",
    [
        ({"title": "标" * 33}, 45003),
        ({"title": ""}, 44003),
        ({"author": "作" * 17}, 45110),
        ({"digest": "摘" * 129}, 45004),
        ({"content": ""}, 44003),
        ({"content": "字" * 20_000}, 45002),
        ({"content_source_url": "http://gov.example.cn/" + "a" * 1010}, 45005),
        ({"thumb_media_id": "unknown"}, 40007),
        ({"need_open_comment": 2}, 40097),
    ],
)
def test_draft_add_enforces_wechat_field_limits(sandbox, token, fields, errcode):
    thumb = cover(sandbox, token)["media_id"]
    answer = call(sandbox, "cgi-bin/draft/add", token, json={"articles": [{**news_article(thumb), **fields}]})
    assert answer["errcode"] == errcode
    assert sandbox.state()["drafts"] == {}


def test_draft_add_accepts_the_limits_themselves_and_up_to_eight_articles(sandbox, token):
    thumb = cover(sandbox, token)["media_id"]
    full = news_article(thumb, title="标" * 32, author="作" * 16, digest="摘" * 128, content="字" * 19_999)
    assert "media_id" in call(sandbox, "cgi-bin/draft/add", token, json={"articles": [full] * 8})
    assert call(sandbox, "cgi-bin/draft/add", token, json={"articles": [full] * 9})["errcode"] == 45008
    assert call(sandbox, "cgi-bin/draft/add", token, json={"articles": []})["errcode"] == 44003


def test_uploadimg_takes_jpeg_or_png_under_one_megabyte(sandbox, token):
    assert call(sandbox, "cgi-bin/media/uploadimg", token, files={"media": ("a.png", PNG)})["url"].endswith(".png")
    gif = b"GIF89a" + b"\x00" * 100
    assert call(sandbox, "cgi-bin/media/uploadimg", token, files={"media": ("a.gif", gif)})["errcode"] == 40005
    big = JPEG + b"\x00" * (1024 * 1024)
    assert call(sandbox, "cgi-bin/media/uploadimg", token, files={"media": ("a.jpg", big)})["errcode"] == 40009
    assert call(sandbox, "cgi-bin/media/uploadimg", token, files={"other": ("a.jpg", JPEG)})["errcode"] == 41005
    (image,) = sandbox.state()["uploaded_images"]
    assert (image["type"], image["size"]) == ("png", len(PNG))


def test_material_keeps_size_and_type_and_thumbs_are_small_jpegs(sandbox, token):
    answer = cover(sandbox, token)
    material = sandbox.state()["materials"][answer["media_id"]]
    assert (material["type"], material["image_type"], material["size"]) == ("image", "jpg", len(JPEG))
    big_thumb = JPEG + b"\x00" * 64 * 1024
    answer = call(
        sandbox, "cgi-bin/material/add_material", token, params={"type": "thumb"}, files={"media": ("t.jpg", big_thumb)}
    )
    assert answer["errcode"] == 40009


# -- the MASSSENDJOBFINISH report -------------------------------------------------------------------------------
class Receiver:
    """A local HTTP server standing in for our WeChat callback endpoint."""

    def __init__(self, statuses):
        self.statuses = list(statuses)  # answered in turn; the last one repeats
        self.received = []
        self.done = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"success")
                if status == 200:
                    receiver.done.set()

            def log_message(self, format, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/wechat/callback/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def query(self, index=0):
        return {key: values[0] for key, values in parse_qs(urlsplit(self.received[index][0]).query).items()}


@pytest.fixture
def receiver():
    made = []

    def _make(statuses=(200,)):
        made.append(Receiver(statuses))
        return made[-1]

    yield _make
    for one in made:
        one.server.shutdown()
        one.server.server_close()


def callback_record(sandbox, attempts):
    """The one callback record, once the sandbox has noted `attempts` attempts (it notes each after the answer)."""
    deadline = time.monotonic() + 5
    while True:
        (record,) = sandbox.state()["callbacks"] or [{"attempts": []}]
        if len(record["attempts"]) >= attempts or time.monotonic() > deadline:
            return record
        time.sleep(0.02)


def test_report_is_posted_with_a_valid_signature_and_the_audience_counts(sandbox, receiver):
    callback = receiver()
    sandbox.register_wechat(token="callback-token", callback_url=callback.url, followers=1234, tags={"7": 56})
    token = stable_token(sandbox)["access_token"]
    msg_id = sendall(sandbox, token, draft(sandbox, token, count=2), "a", tag_id=7)["msg_id"]
    assert callback.done.wait(5)

    query = callback.query()
    check_signature("callback-token", query["signature"], query["timestamp"], query["nonce"])
    event = parse_message(callback.received[0][1])
    assert (event.type, event.event) == ("event", "masssendjobfinish")
    assert (event.id, event.status) == (msg_id, "send success")  # wechatpy names MsgID `id`
    assert (event.total_count, event.filter_count, event.sent_count, event.error_count) == (56, 56, 56, 0)
    assert event.target.startswith("gh_")
    assert b"<ArticleUrlResult><Count>2</Count>" in callback.received[0][1]
    record = callback_record(sandbox, attempts=1)
    assert record["delivered"] and len(record["attempts"]) == 1


def test_report_to_all_followers_counts_them_all(sandbox, receiver):
    callback = receiver()
    sandbox.register_wechat(token="callback-token", callback_url=callback.url, followers=1234)
    token = stable_token(sandbox)["access_token"]
    sendall(sandbox, token, draft(sandbox, token), "a")
    assert callback.done.wait(5)
    assert parse_message(callback.received[0][1]).sent_count == 1234


def test_report_is_retried_when_our_server_fails(sandbox, receiver):
    callback = receiver(statuses=(500, 200))
    sandbox.register_wechat(token="t", callback_url=callback.url)
    token = stable_token(sandbox)["access_token"]
    sendall(sandbox, token, draft(sandbox, token), "a")
    assert callback.done.wait(5)
    record = callback_record(sandbox, attempts=2)
    assert [attempt["ok"] for attempt in record["attempts"]] == [False, True]


def test_report_gives_up_after_three_attempts(sandbox, receiver):
    callback = receiver(statuses=(503,))
    sandbox.register_wechat(token="t", callback_url=callback.url)
    token = stable_token(sandbox)["access_token"]
    sendall(sandbox, token, draft(sandbox, token), "a")
    callback_record(sandbox, attempts=3)
    time.sleep(0.3)  # room for a fourth attempt, which must not come
    record = callback_record(sandbox, attempts=3)
    assert len(callback.received) == 3 and len(record["attempts"]) == 3 and not record["delivered"]


def test_report_status_can_be_a_review_refusal(sandbox, receiver):
    callback = receiver()
    sandbox.register_wechat(token="t", callback_url=callback.url, followers=10, report_status="err(20013)")
    token = stable_token(sandbox)["access_token"]
    msg_id = sendall(sandbox, token, draft(sandbox, token), "a")["msg_id"]
    assert callback.done.wait(5)
    event = parse_message(callback.received[0][1])
    assert (event.status, event.sent_count, event.error_count) == ("err(20013)", 0, 10)
    answer = call(sandbox, "cgi-bin/message/mass/get", token, json={"msg_id": msg_id})
    assert answer["msg_status"] == "SEND_FAIL"


# -- fault injection -----------------------------------------------------------------------------------------------
def test_injected_errors_answer_without_performing_the_send(sandbox, token):
    media_id = draft(sandbox, token)
    sandbox.faults(error_rate=1, errors=[45009], paths=["/cgi-bin/message/mass/sendall"])
    assert sendall(sandbox, token, media_id, "a")["errcode"] == 45009
    assert sandbox.sends() == []
    assert sandbox.state()["faults_injected"][0]["code"] == 45009


def test_injected_errors_are_drawn_from_the_list_reproducibly(sandbox, token):
    def codes():
        sandbox.faults(error_rate=0.5, errors=[-1, 45009], seed=7, paths=["/cgi-bin/message/mass/get"])
        return [call(sandbox, "cgi-bin/message/mass/get", token, json={"msg_id": 1})["errcode"] for _ in range(30)]

    first = codes()
    assert first == codes()
    assert {-1, 45009, 40007} == set(first)  # 40007: the unknown msg_id, when no fault was drawn


def test_faults_touch_only_the_listed_paths_and_stop_at_the_limit(sandbox, token):
    sandbox.faults(error_rate=1, errors=[-1], paths=["/cgi-bin/message/mass/get"], limit=2)
    media_id = draft(sandbox, token)  # not a listed path
    answers = [call(sandbox, "cgi-bin/message/mass/get", token, json={"msg_id": 1})["errcode"] for _ in range(3)]
    assert media_id and answers == [-1, -1, 40007]


def test_injected_5xx_codes_answer_at_the_http_level(sandbox, token):
    sandbox.faults(error_rate=1, errors=[502])
    answer = requests.post(sandbox.url + "cgi-bin/message/mass/get", params={"access_token": token}, json={}, timeout=5)
    assert answer.status_code == 502


def test_dropped_connection_before_the_action_sends_nothing(sandbox, token):
    media_id = draft(sandbox, token)
    sandbox.faults(drop_rate=1, paths=["/cgi-bin/message/mass/sendall"])
    with pytest.raises(requests.ConnectionError):
        sendall(sandbox, token, media_id, "a")
    assert sandbox.sends() == []


def test_dropped_connection_after_the_action_has_sent(sandbox, token):
    media_id = draft(sandbox, token)
    sandbox.faults(drop_rate=1, drop_after_action=True, paths=["/cgi-bin/message/mass/sendall"])
    with pytest.raises(requests.ConnectionError):
        sendall(sandbox, token, media_id, "a")
    (send,) = sandbox.sends()
    assert send["clientmsgid"] == "a"


def test_latency_delays_the_answer_past_a_short_client_timeout(sandbox, token):
    sandbox.faults(latency_ms=500, paths=["/cgi-bin/message/mass/get"])
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            sandbox.url + "cgi-bin/message/mass/get", params={"access_token": token}, json={}, timeout=(1, 0.1)
        )


# -- control -------------------------------------------------------------------------------------------------------
def test_reset_forgets_everything(sandbox, token):
    draft(sandbox, token)
    sandbox.faults(error_rate=1)
    sandbox.clock(3600)
    sandbox.reset()
    state = sandbox.state()
    assert state["accounts"] == {} and state["drafts"] == {} and state["faults"] == {}
    assert state["clock_offset_seconds"] == 0 and state["tokens"] == {}


def test_control_endpoints_refuse_bad_input(sandbox):
    assert requests.post(sandbox.url + "_sandbox/accounts", json={"appid": "wx"}, timeout=5).status_code == 400
    assert requests.post(sandbox.url + "_sandbox/faults", json={"eror_rate": 1}, timeout=5).status_code == 400
    assert (
        requests.post(
            sandbox.url + "_sandbox/accounts", json={"appid": "wx", "secret": "s", "type": "x"}, timeout=5
        ).status_code
        == 400
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_state_file_survives_a_restart_of_the_standalone_server(tmp_path):
    state_file = tmp_path / "sandbox.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "publishing.sandbox", "--port", str(port), "--state-file", str(state_file)]
    root = Path(__file__).resolve().parents[2]
    # The standalone server must not need Django: run it without the settings module.
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}

    def start():
        process = subprocess.Popen(command, cwd=root, env=environment, stdout=subprocess.PIPE, text=True)
        assert "listening on" in process.stdout.readline()
        return process

    process = start()
    try:
        requests.post(url + "_sandbox/accounts", json={"appid": "wx-demo", "secret": "s"}, timeout=5).raise_for_status()
        requests.post(url + "_sandbox/weibo_apps", json={"access_token": "t", "safe_domain": "a.cn"}, timeout=5)
    finally:
        process.terminate()
        process.wait(5)
    process = start()
    try:
        state = requests.get(url + "_sandbox/state", timeout=5).json()
    finally:
        process.terminate()
        process.wait(5)
    assert set(state["accounts"]) == {"wx-demo"} and set(state["weibo_apps"]) == {"t"}


def test_callback_signature_is_sha1_of_the_sorted_parts():
    from publishing.sandbox.wechat import sign

    assert sign("token", "1700000000", "nonce") == hashlib.sha1(b"1700000000noncetoken").hexdigest()  # noqa: S324
