import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govcms.settings")

app = Celery("govcms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _drop_broken_database_connections(**kwargs):
    # CELERY_DB_REUSE_MAX keeps a worker's connection across tasks; after PostgreSQL restarts, that
    # connection is dead and every task would fail on it until Celery recycles it. Django's own check
    # (as at each web request) closes a connection that errored and no longer answers, or outlived
    # CONN_MAX_AGE, so the next task opens a fresh one.
    from django.db import close_old_connections

    close_old_connections()
