from datetime import timedelta

from django.utils import timezone

from answers import matching
from answers.matching import match, normalize
from answers.models import EntryState


def answered(text):
    answer = match(None, text)
    return answer.question if answer else None


def test_normalize_folds_width_case_spaces_and_punctuation():
    assert normalize("  ＡＢＣ１２３，身份证　办理？！ ") == "abc123身份证办理"
    assert normalize("Hello, World!") == "helloworld"


def test_exact_keyword_beats_a_longer_contained_one(make_entry):
    make_entry("户口迁移", contained=["户口迁移怎么办理"])
    make_entry("问候", exact=["户口迁移怎么办理？"])
    assert answered("户口迁移怎么办理") == "问候"
    assert answered("请问户口迁移怎么办理") == "户口迁移"  # not the whole message: exact does not apply


def test_longest_contained_keyword_wins(make_entry):
    make_entry("身份证", contained=["身份证"], priority=100)
    make_entry("身份证补办", contained=["补办身份证"])
    assert answered("我想补办身份证，需要什么材料") == "身份证补办"
    assert answered("身份证丢了") == "身份证"


def test_priority_breaks_ties_between_keywords_of_the_same_length(make_entry):
    make_entry("低", contained=["驾驶证"], priority=1)
    make_entry("高", contained=["行驶证"], priority=5)
    assert answered("驾驶证和行驶证都过期了") == "高"


def test_same_priority_and_length_goes_to_the_older_entry(make_entry):
    make_entry("先", contained=["驾驶证"])
    make_entry("后", contained=["驾驶证"])
    assert answered("驾驶证过期") == "先"


def test_draft_expired_and_future_entries_never_match(make_entry):
    now = timezone.now()
    make_entry("草稿", contained=["社保"], state=EntryState.DRAFT)
    make_entry("待审", contained=["社保"], state=EntryState.SUBMITTED)
    make_entry("过期", contained=["社保"], valid_to=now - timedelta(minutes=1))
    make_entry("未生效", contained=["社保"], valid_from=now + timedelta(days=1))
    assert answered("社保怎么交") is None
    make_entry("有效", contained=["社保"], valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=1))
    matching.library_changed()
    assert answered("社保怎么交") == "有效"


def test_an_entry_stops_answering_when_its_validity_ends_without_a_rebuild(make_entry):
    entry = make_entry("限时", contained=["年检"], valid_to=timezone.now() + timedelta(hours=1))
    assert answered("年检在哪") == "限时"
    library = matching._library.current()
    assert library.match("年检在哪", entry.valid_to) is None


def test_no_keyword_no_answer(make_entry):
    make_entry("户口", contained=["户口"])
    assert answered("今天天气不错") is None
    assert answered("，。！") is None
