"""The callback server (/wechat/<account-id>/) answers a follower's text from the library, from memory."""

import pytest
from django.db import connection, connections
from django.urls import reverse

from answers import matching, tasks
from answers.models import AnswerEntry
from publishing.sandbox.follower import Follower
from shared import redis_client

TOKEN = "cbtoken"  # tests/conftest.py make_account


@pytest.fixture(autouse=True)
def quiet_tasks(monkeypatch):
    redis_client.delete_matching("publishing:wechat-*")
    from publishing import tasks as publishing_tasks

    monkeypatch.setattr(publishing_tasks.store_inbound_message, "delay", lambda **kwargs: None)
    hits = []
    monkeypatch.setattr(tasks.record_hit, "delay", hits.append)
    return hits


@pytest.fixture
def follower(client, make_account):
    account = make_account(wechat_default_reply="您好，请留言。", wechat_acknowledgement="您好，请留言。")

    def transport(url, body):
        response = client.post(url, body, content_type="text/xml")
        return response.status_code, response.content

    return Follower(reverse("wechat_listen", args=[account.pk]), token=TOKEN, appid=account.wechat_app_id,
                    transport=transport)  # fmt: skip


def test_a_follower_gets_the_library_answer_and_otherwise_the_default_reply(follower, make_entry, quiet_tasks):
    entry = make_entry("居住证", contained=["居住证"], answer_text="请带身份证和居住证明到派出所办理。")
    exchange = follower.send_text("办理居住证需要什么材料", msg_id=7)
    assert (exchange.status, exchange.fields["Content"]) == (200, "请带身份证和居住证明到派出所办理。")
    assert quiet_tasks == [entry.pk]
    exchange = follower.send_text("今天天气怎么样", msg_id=8)
    assert (exchange.status, exchange.fields["Content"]) == (200, "您好，请留言。")


@pytest.mark.django_db(transaction=True)  # the entry committed, so the other session can lock its table
def test_the_library_answers_while_its_table_is_locked(follower, make_entry):
    make_entry("居住证", contained=["居住证"], answer_text="请到派出所办理。")
    assert matching.match(None, "居住证").question == "居住证"  # this process compiled it already
    locker = connections.create_connection("default")
    try:
        locker.set_autocommit(False)
        locker.cursor().execute("SET lock_timeout = '5s'")
        locker.cursor().execute(f"LOCK TABLE {AnswerEntry._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")  # a touch of the table fails instead of hanging
        exchange = follower.send_text("居住证怎么办", msg_id=9)
        assert (exchange.status, exchange.fields["Content"]) == (200, "请到派出所办理。")
    finally:
        locker.rollback()
        locker.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
