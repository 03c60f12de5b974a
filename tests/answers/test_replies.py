from wechatpy import parse_message

from answers import replies, tasks
from answers.models import AnswerEntry, AnswerKind


def text_message(content):
    return parse_message(
        "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[o_follower]]></FromUserName>"
        f"<CreateTime>1767225600</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        "<MsgId>1001</MsgId></xml>"
    )


def test_a_matched_text_answer_is_a_text_reply_and_its_hit_is_counted(make_entry, monkeypatch):
    counted = []
    monkeypatch.setattr(tasks.record_hit, "delay", counted.append)
    entry = make_entry("户口迁移", contained=["户口迁移"], answer_text="请携带身份证到户籍窗口办理。")
    reply = replies.library_reply(None, text_message("请问户口迁移怎么办？"))
    assert (reply.type, reply.content, reply.target, reply.source) == (
        "text", "请携带身份证到户籍窗口办理。", "o_follower", "gh_account"
    )  # fmt: skip
    assert counted == [entry.pk]
    tasks.record_hit(entry.pk)
    assert AnswerEntry.objects.get(pk=entry.pk).hit_count == 1


def test_a_wechat_article_answer_is_a_news_reply_of_one_article(make_entry, monkeypatch):
    monkeypatch.setattr(tasks.record_hit, "delay", lambda entry_id: None)
    make_entry(
        "医保缴费", contained=["医保"], kind=AnswerKind.WECHAT_ARTICLE, answer_text="缴费指南",
        wechat_url="https://mp.weixin.qq.com/s/abc",
    )  # fmt: skip
    reply = replies.library_reply(None, text_message("医保怎么交"))
    assert reply.type == "news"
    assert reply.articles == [
        {"title": "医保缴费", "description": "缴费指南", "image": "", "url": "https://mp.weixin.qq.com/s/abc"}
    ]


def test_no_match_and_other_message_types_give_no_library_reply(make_entry, monkeypatch):
    monkeypatch.setattr(tasks.record_hit, "delay", lambda entry_id: None)
    make_entry("户口", contained=["户口"])
    assert replies.library_reply(None, text_message("今天天气不错")) is None
    event = parse_message(
        "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    assert replies.library_reply(None, event) is None
