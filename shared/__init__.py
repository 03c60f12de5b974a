"""Helpers several apps use: trees, spreadsheets, charts, rate limits, Redis, client addresses, bigrams.

This package imports no app and not the project package (`govcms`), so any app may import it
without pulling in the others or the Celery app.
"""
