import pytest

from answers import matching
from answers.models import AnswerEntry, EntryState
from shared import redis_client


@pytest.fixture(autouse=True)
def fresh_library(settings):
    """No version in Redis, and every change seen at once (tests/conftest.py resets the compiled library)."""
    settings.ANSWERS_VERSION_CHECK_SECONDS = 0
    redis_client.client().delete(matching.VERSION_KEY)


@pytest.fixture
def make_entry(county, editor):
    def make(question="问题", *, exact=(), contained=(), state=EntryState.APPROVED, **fields):
        return AnswerEntry.objects.create(
            question=question,
            exact_keywords=list(exact),
            contained_keywords=list(contained),
            answer_text=fields.pop("answer_text", question + "的答复"),
            department=fields.pop("department", county["office"]),
            state=state,
            created_by=editor,
            updated_by=editor,
            **fields,
        )

    return make
