"""GovWeChatClient against the sandbox: one token for all workers, one retry after a token error, errors classified."""

import threading

import pytest
from wechatpy.session.memorystorage import MemoryStorage

from publishing.channels import wechat_api
from publishing.channels.wechat_api import GovWeChatClient, WeChatAPIError
from tests.publishing.conftest import WECHAT_APPID, WECHAT_SECRET, news_article

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 4096
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000


def news_item(client, **fields):
    media_id, _ = client.add_image_material(JPEG, "cover.jpg")
    return news_article(media_id, **fields)


def test_client_talks_to_the_accounts_base_url_and_fetches_its_token_with_stable_token(sandbox, wechat_client):
    assert wechat_client.API_BASE_URL == sandbox.url + "cgi-bin/"
    assert wechat_client.timeout == (5, 30)
    assert wechat_client.access_token
    state = sandbox.state()
    assert state["stable_token_calls"] == {WECHAT_APPID: 1} and state["token_fetches"] == {}


@pytest.mark.parametrize("suffix", ["", "cgi-bin", "cgi-bin/"])
def test_base_url_may_be_given_with_or_without_cgi_bin(sandbox, wechat_session, suffix):
    client = GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url + suffix, wechat_session)
    assert client.API_BASE_URL == sandbox.url + "cgi-bin/"


def test_client_needs_a_redis_session_so_that_workers_share_the_token(sandbox):
    with pytest.raises(TypeError):
        GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url, MemoryStorage())


def test_client_accepts_a_redis_client_instead_of_a_session(sandbox, redis_client):
    client = GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url, redis_client=redis_client)
    assert client.session.prefix == "govcms:wechat"


def test_images_draft_and_mass_send_reach_the_platform(sandbox, wechat_client):
    body_url = wechat_client.upload_body_image(PNG, "chart.png")
    item = news_item(wechat_client, content=f'<p>见图</p><img src="{body_url}">')
    media_id = wechat_client.draft.add([item, {**item, "title": "第二篇"}])
    answer = wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")

    assert answer["errcode"] == 0 and answer["duplicate"] is False
    assert wechat_client.mass.get(answer["msg_id"])["msg_status"] == "SEND_SUCCESS"
    (send,) = sandbox.sends(WECHAT_APPID)
    assert (send["msg_id"], send["clientmsgid"], send["is_to_all"]) == (answer["msg_id"], "delivery-1", True)
    assert [article["title"] for article in send["articles"]] == ["县政府召开常务会议", "第二篇"]
    assert body_url in send["articles"][0]["content"]
    assert sandbox.state()["uploaded_images"][0]["size"] == len(PNG)


def test_mass_send_to_a_tag_uses_the_tag_filter(sandbox, wechat_client):
    sandbox.register_wechat(tags={"42": 300})
    media_id = wechat_client.draft.add([news_item(wechat_client)])
    wechat_client.mass.send_all(media_id, tag_id=42, clientmsgid="delivery-1")
    (send,) = sandbox.sends()
    assert send["filter"] == {"is_to_all": False, "tag_id": 42}


def test_repeated_clientmsgid_is_not_an_error_and_names_the_original_send(sandbox, wechat_client):
    media_id = wechat_client.draft.add([news_item(wechat_client)])
    first = wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")
    again = wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")
    assert again == {"msg_id": first["msg_id"], "duplicate": True}
    assert len(sandbox.sends()) == 1


def test_send_dropped_after_the_platform_acted_is_recovered_by_resending_the_same_clientmsgid(sandbox, wechat_client):
    media_id = wechat_client.draft.add([news_item(wechat_client)])
    sandbox.faults(drop_rate=1, drop_after_action=True, paths=["/cgi-bin/message/mass/sendall"], limit=1)
    with pytest.raises(WeChatAPIError) as dropped:
        wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")
    assert dropped.value.code is None and dropped.value.transient

    answer = wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")
    (send,) = sandbox.sends()
    assert answer["duplicate"] is True and answer["msg_id"] == send["msg_id"]


def test_eight_workers_fetch_the_token_once(sandbox, wechat_session):
    sandbox.register_wechat()
    # A slow stable_token widens the window in which workers without the lock would each fetch.
    sandbox.faults(latency_ms=200, paths=["/cgi-bin/stable_token"])
    clients = [GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url, wechat_session) for _ in range(8)]
    start = threading.Barrier(len(clients))
    tokens = []

    def work(client):
        start.wait()
        tokens.append(client.access_token)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert sandbox.state()["stable_token_calls"] == {WECHAT_APPID: 1}


def test_a_new_client_instance_uses_the_token_in_redis(sandbox, wechat_client, wechat_session):
    token = wechat_client.access_token
    other = GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url, wechat_session)
    assert other.access_token == token
    assert sandbox.state()["stable_token_calls"] == {WECHAT_APPID: 1}


def test_expired_token_is_refreshed_once_and_the_call_succeeds(sandbox, wechat_client):
    media_id = wechat_client.draft.add([news_item(wechat_client)])
    old = wechat_client.access_token
    sandbox.clock(7201)  # WeChat's clock says the token expired; Redis still holds it

    answer = wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")

    assert answer["errcode"] == 0 and wechat_client.access_token != old
    state = sandbox.state()
    assert state["stable_token_calls"] == {WECHAT_APPID: 2} and state["stable_token_force_refreshes"] == {}


def test_upload_retried_after_a_token_error_sends_the_whole_file_again(sandbox, wechat_client):
    assert wechat_client.access_token
    sandbox.reset()  # the sandbox forgets the token: the next call gets 40001
    sandbox.register_wechat()
    wechat_client.upload_body_image(PNG, "chart.png")
    assert sandbox.state()["uploaded_images"][0]["size"] == len(PNG)


def test_refused_token_that_stable_token_hands_back_is_force_refreshed_once(sandbox, wechat_client):
    first = wechat_client.access_token
    sandbox.faults(error_rate=1, errors=[40001], paths=["/cgi-bin/message/mass/get"], limit=1)
    with pytest.raises(WeChatAPIError) as unknown:
        wechat_client.mass.get(123)
    assert unknown.value.code == 40007  # the retry went through with the new token
    assert wechat_client.access_token != first
    state = sandbox.state()
    assert state["stable_token_calls"] == {WECHAT_APPID: 3} and state["stable_token_force_refreshes"] == {
        WECHAT_APPID: 1
    }


def test_a_token_error_that_persists_is_raised_after_one_retry_without_looping(sandbox, wechat_client):
    sandbox.faults(error_rate=1, errors=[40001], paths=["/cgi-bin/message/mass/get"])
    for _ in range(2):
        with pytest.raises(WeChatAPIError) as refused:
            wechat_client.mass.get(123)
        assert refused.value.code == 40001 and not refused.value.transient
    state = sandbox.state()
    # First call: the call, one refresh (normal, then forced), one retry. Second: no second forced refresh.
    assert len(state["faults_injected"]) == 3
    assert state["stable_token_force_refreshes"] == {WECHAT_APPID: 1}


def test_platform_errors_are_classified_and_explained(sandbox, wechat_client):
    media_id = wechat_client.draft.add([news_item(wechat_client)])
    wechat_client.mass.send_all(media_id, clientmsgid="delivery-1")
    with pytest.raises(WeChatAPIError) as no_quota:
        wechat_client.mass.send_all(media_id, clientmsgid="delivery-2")
    assert no_quota.value.code == 45028 and not no_quota.value.transient
    assert "45028" in wechat_api.explain(45028)

    sandbox.faults(error_rate=1, errors=[45009])
    with pytest.raises(WeChatAPIError) as limited:
        wechat_client.mass.get(1)
    assert limited.value.code == 45009 and limited.value.transient


def test_field_errors_from_draft_add_are_permanent(sandbox, wechat_client):
    with pytest.raises(WeChatAPIError) as too_long:
        wechat_client.draft.add([news_item(wechat_client, title="标" * 33)])
    assert too_long.value.code == 45003 and not too_long.value.transient


def test_unreachable_or_slow_platform_is_a_transient_error(sandbox, wechat_session):
    sandbox.register_wechat()
    client = GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url, wechat_session, timeout=(1, 0.2))
    assert client.access_token
    sandbox.faults(latency_ms=600, paths=["/cgi-bin/message/mass/get"])
    with pytest.raises(WeChatAPIError) as slow:
        client.mass.get(1)
    assert slow.value.code is None and slow.value.transient

    sandbox.faults(error_rate=1, errors=[502])
    with pytest.raises(WeChatAPIError) as bad_gateway:
        client.mass.get(1)
    assert bad_gateway.value.code is None and "502" in bad_gateway.value.message


def test_every_classified_code_has_its_own_explanation():
    fallback = wechat_api.explain(99999)
    for code in wechat_api.PERMANENT_CODES | wechat_api.TRANSIENT_CODES | {None}:
        assert wechat_api.explain(code) != fallback.replace("99999", str(code))
    assert not wechat_api.PERMANENT_CODES & wechat_api.TRANSIENT_CODES


def test_a_token_lock_gone_before_its_release_is_not_an_error(wechat_client, redis_client, monkeypatch):
    # Redis flushed (or the lock expired) while this process fetched the token: the token still counts.
    fetch = wechat_client.fetch_access_token

    def fetch_then_lose_the_lock(force_refresh=False):
        result = fetch(force_refresh)
        redis_client.delete(wechat_client.session.key_name(f"{wechat_client.appid}_token_lock"))
        return result

    monkeypatch.setattr(wechat_client, "fetch_access_token", fetch_then_lose_the_lock)
    token = wechat_client.access_token
    assert token and wechat_client.session.get(wechat_client.access_token_key) == token
