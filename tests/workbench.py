"""Reading the admin's workbench (govcms/workbench.py) in tests: which sections a person sees, with their counts."""

from django.urls import reverse


def workbench(client, tab: str = "todo") -> dict:
    """{group: {section: count}} of the sections shown on the given tab, and the page's context."""
    response = client.get(reverse("admin:index"), {"tab": tab})
    assert response.status_code == 200
    groups = {g["key"]: {s.key: s.count for s in g["sections"]} for g in response.context["workbench_groups"]}
    return groups


def waiting(client, group: str, tab: str = "todo") -> dict:
    """The sections of one group that hold something, with their counts ({} when none does)."""
    return {key: count for key, count in workbench(client, tab).get(group, {}).items() if count}
