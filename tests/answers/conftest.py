from types import SimpleNamespace

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


@pytest.fixture
def stored(monkeypatch):
    """The storing tasks the callback enqueued, run by `run()` (as a worker would, after the reply)."""
    redis_client.delete_matching("publishing:wechat-*")
    from answers import tasks as answer_tasks
    from publishing import tasks

    calls = []
    monkeypatch.setattr(tasks.store_inbound_message, "delay", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(answer_tasks.record_hit, "delay", lambda entry_id: None)

    def run():
        for kwargs in calls:
            tasks.store_inbound_message.run(**kwargs)

    return SimpleNamespace(calls=calls, run=run)
