"""Statistics pages of citizens' messages (placeholder until the statistics work lands)."""

from django.http import Http404


def statistics_view(request):
    raise Http404


def statistics_export_view(request):
    raise Http404
