from answers import matching
from answers.actions import APPROVE, SUBMIT, WITHDRAW
from answers.models import EntryState


def test_another_process_rebuilds_when_it_sees_a_newer_version(make_entry):
    other_process = matching._ProcessLibrary()
    make_entry("户口", contained=["户口"])
    assert other_process.current().match("户口迁移", matching.timezone.now()).question == "户口"
    make_entry("户口迁移", contained=["户口迁移"])
    # Same version: the process keeps what it compiled.
    assert other_process.current().match("户口迁移", matching.timezone.now()).question == "户口"
    version = matching.library_changed()
    assert other_process.current().match("户口迁移", matching.timezone.now()).question == "户口迁移"
    assert other_process.version == version


def test_a_flushed_redis_makes_a_process_rebuild(make_entry):
    make_entry("户口", contained=["户口"])
    matching.library_changed()
    assert matching.match(None, "户口").question == "户口"
    make_entry("户口2", exact=["户口"])
    matching.redis_client.client().delete(matching.VERSION_KEY)
    assert matching.match(None, "户口").question == "户口2"
    assert matching.loaded_version() == 0


def test_approving_and_withdrawing_change_the_answers_at_once(
    make_entry, editor, reviewer, django_capture_on_commit_callbacks
):
    entry = make_entry("户口", contained=["户口"], state=EntryState.DRAFT)
    assert matching.match(None, "户口") is None
    with django_capture_on_commit_callbacks(execute=True):
        SUBMIT.execute(editor, entry)
        APPROVE.execute(reviewer, entry)
    assert matching.match(None, "户口").entry_id == entry.pk
    with django_capture_on_commit_callbacks(execute=True):
        WITHDRAW.execute(reviewer, entry)
    assert matching.match(None, "户口") is None


def test_a_database_error_while_compiling_answers_nothing_instead_of_failing(make_entry, monkeypatch):
    from django.db import OperationalError

    make_entry("户口", contained=["户口"])

    def unreachable(now=None):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(matching, "compile_library", unreachable)
    assert matching.match(None, "户口") is None
    monkeypatch.undo()
    assert matching.match(None, "户口").question == "户口"
