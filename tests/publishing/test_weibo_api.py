"""weibo_api.share against the sandbox, and the length rule the preflight relies on."""

import pytest
import requests

from publishing.channels import weibo_api
from publishing.channels.weibo_api import WeiboAPIError, share, weibo_length
from tests.publishing.conftest import SAFE_DOMAIN, WEIBO_TOKEN

LINK = f"http://{SAFE_DOMAIN}/articles/1/"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 3000


@pytest.fixture
def weibo(sandbox):
    sandbox.register_weibo(uid=5550001)

    def post(status, **options):
        return share(sandbox.url, WEIBO_TOKEN, status, **options)

    return post


@pytest.mark.parametrize(
    "text, length",
    [
        ("", 0),
        ("中" * 140, 140),
        ("a" * 280, 140),
        ("a" * 281, 141),
        ("中a", 2),
        ("中ab", 2),
        ("，。！", 3),  # full-width punctuation counts 1
        ("😀", 2),  # outside the BMP: two UTF-16 units
        ("http://gov.example.cn/articles/12345/?from=weibo&utm=a-very-long-campaign-name", 10),
        ("http://a.cn", 10),  # a short link counts as a t.cn link too
        ("【标题】 http://a.cn/1 http://a.cn/2", 4 + 1 + 20),
    ],
)
def test_weibo_length_counts_two_ascii_characters_as_one_and_links_as_twenty(text, length):
    assert weibo_length(text) == length


def test_the_sandbox_counts_as_weibo_length_does_at_the_limit(weibo):
    prefix = "【县政府召开常务会议】"
    filler = "会" * (140 - weibo_length(prefix + " " + LINK))
    exactly = f"{prefix}{filler} {LINK}"
    assert weibo_length(exactly) == 140
    assert weibo(exactly)["text"] == exactly
    with pytest.raises(WeiboAPIError) as too_long:
        weibo(f"{prefix}{filler}多 {LINK}")
    assert too_long.value.code == 20012 and not too_long.value.transient


def test_share_posts_the_text_and_answers_like_weibo(sandbox, weibo):
    answer = weibo(f"【通知】今日停水 {LINK}", rip="10.1.2.3")
    assert answer["idstr"] == str(answer["id"]) and answer["user"]["id"] == 5550001
    (post,) = sandbox.state()["weibo_posts"]
    assert (post["status"], post["rip"], post["pic"]) == (f"【通知】今日停水 {LINK}", "10.1.2.3", None)


def test_share_with_an_image_sends_it_as_the_pic_part(sandbox, weibo):
    answer = weibo(f"【通知】今日停水 {LINK}", image=JPEG, image_name="cover.jpg")
    assert answer["original_pic"]
    (post,) = sandbox.state()["weibo_posts"]
    assert post["pic"] == {"filename": "cover.jpg", "type": "jpg", "size": len(JPEG)}


def test_post_needs_a_link_on_the_safe_domain(weibo):
    with pytest.raises(WeiboAPIError) as no_link:
        weibo("【通知】今日停水")
    with pytest.raises(WeiboAPIError) as other_domain:
        weibo("【通知】今日停水 http://elsewhere.example.com/1")
    assert no_link.value.code == other_domain.value.code == 10017
    assert weibo(f"【通知】今日停水 http://www.{SAFE_DOMAIN}/1")["id"]  # a subdomain is on the domain


def test_topics_are_refused(weibo):
    with pytest.raises(WeiboAPIError) as topic:
        weibo(f"#停水通知# 今日停水 {LINK}")
    assert topic.value.code == 10017 and not topic.value.transient


def test_thirty_posts_an_hour_then_a_transient_rate_limit(sandbox, weibo):
    for number in range(30):
        weibo(f"第{number}条 {LINK}")
    with pytest.raises(WeiboAPIError) as limited:
        weibo(f"第31条 {LINK}")
    assert limited.value.code == 20016 and limited.value.transient
    assert limited.value.retry_after == weibo_api.RATE_LIMIT_BACKOFF_SECONDS

    sandbox.clock(3600)
    assert weibo(f"第31条 {LINK}")["id"]


def test_the_same_text_again_is_refused_as_a_repeat(weibo):
    weibo(f"【通知】今日停水 {LINK}")
    with pytest.raises(WeiboAPIError) as repeat:
        weibo(f"【通知】今日停水 {LINK}")
    assert repeat.value.code == 20019 and not repeat.value.transient


def test_unknown_access_token_is_permanent_and_explained(sandbox):
    with pytest.raises(WeiboAPIError) as refused:
        share(sandbox.url, "no-such-token", f"hi {LINK}")
    assert refused.value.code == 21332 and not refused.value.transient
    assert "21332" in weibo_api.explain(21332)


def test_large_or_unsupported_pictures_are_refused(weibo):
    with pytest.raises(WeiboAPIError) as too_big:
        weibo(f"a {LINK}", image=JPEG + b"\x00" * (5 * 1024 * 1024), image_name="big.jpg")
    with pytest.raises(WeiboAPIError) as not_an_image:
        weibo(f"b {LINK}", image=b"%PDF-1.4", image_name="a.pdf")
    assert (too_big.value.code, not_an_image.value.code) == (20006, 20005)


def test_network_failures_are_left_to_the_caller_as_requests_errors(sandbox, weibo):
    sandbox.faults(drop_rate=1, drop_after_action=True, paths=["/2/statuses/share.json"])
    with pytest.raises(requests.ConnectionError):
        weibo(f"【通知】今日停水 {LINK}")
    assert len(sandbox.state()["weibo_posts"]) == 1  # it was posted: the caller must not resend blindly


def test_platform_busy_answers_are_transient(sandbox, weibo):
    sandbox.faults(error_rate=1, errors=[10001])
    with pytest.raises(WeiboAPIError) as busy:
        weibo(f"a {LINK}")
    assert busy.value.code == 10001 and busy.value.transient and busy.value.retry_after is None

    sandbox.faults(error_rate=1, errors=[502])
    with pytest.raises(WeiboAPIError) as bad_gateway:
        weibo(f"b {LINK}")
    assert bad_gateway.value.code is None and bad_gateway.value.http_status == 502 and bad_gateway.value.transient


def test_every_weibo_code_we_classify_is_explained():
    for code in weibo_api.TRANSIENT_CODES | weibo_api.TOKEN_CODES | set(weibo_api.EXPLANATIONS):
        assert weibo_api.explain(code) != weibo_api.explain(99999).replace("99999", str(code))


def test_recent_posts_lists_the_accounts_own_posts_newest_first_with_short_links(sandbox, weibo):
    sandbox.register_weibo(access_token="someone-else", safe_domain=SAFE_DOMAIN)
    share(sandbox.url, "someone-else", f"【别的账号】 {LINK}")
    first, second = weibo(f"【通知】今日停水 {LINK}"), weibo(f"【通知】明日恢复供水 {LINK}")
    posts = weibo_api.recent_posts(sandbox.url, WEIBO_TOKEN, count=10)
    assert [post["idstr"] for post in posts] == [second["idstr"], first["idstr"]]
    assert "t.cn" in posts[0]["text"] and LINK not in posts[0]["text"]
    # Our text still matches once links are left aside; another text does not.
    assert weibo_api.same_text(f"【通知】明日恢复供水 {LINK}", posts[0]["text"])
    assert not weibo_api.same_text(f"【通知】今日停水 {LINK}", posts[0]["text"])
    assert weibo_api.created_at(posts[0]).tzinfo is not None


def test_recent_posts_with_a_bad_token_or_a_busy_weibo_raise_weibo_errors(sandbox, weibo):
    with pytest.raises(WeiboAPIError) as bad_token:
        weibo_api.recent_posts(sandbox.url, "not-a-token")
    assert bad_token.value.code == 21332 and not bad_token.value.transient
    sandbox.faults(error_rate=1, errors=[-1], weibo_errors=[10009])  # Weibo paths draw their own codes
    with pytest.raises(WeiboAPIError) as busy:
        weibo_api.recent_posts(sandbox.url, WEIBO_TOKEN)
    assert busy.value.code == 10009 and busy.value.transient
