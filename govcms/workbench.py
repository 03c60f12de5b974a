"""The admin's 工作台: each app's dashboard panel lists, per person, what they may act on now (待办) and what they
did (已办), as sections with a count and the first rows, plus data cards.

A section's count is one SQL COUNT of the rows an action's `candidates` hold (the same rule as its `check`), so the
number stays right and cheap at a county's size; its rows are read only when its tab is shown, the first `TOP` of
them, each asked `check` once more where the section is "waiting for me". Panels build sections with `section`
and `waiting`; the index (govcms.admin_site) gathers them into the two tabs. This module imports no app.

A section that holds the same rows as a badge of the left menu names it (`badge`): the index hands its count to
the menu (`count_once`), so the page counts those rows once.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

TOP = 10  # rows shown per section; the count and the link to the filtered list cover the rest
TO_DO, DONE = "todo", "done"
TABS = (TO_DO, DONE)


@dataclass
class Row:
    """One line of a section: a link, what it is, and what the person needs to see to act on it."""

    url: str
    title: str
    details: list = field(default_factory=list)  # short facts shown after the title (column, department, state)
    note: str = ""  # a reason to read before acting (the reviewer's reason for returning it)
    note_by: str = ""  # who wrote the note
    since: datetime | None = None  # on the 待办 tab shown as an age ("waiting 3 days"), else as a time
    age: bool = True  # False: `since` is when it was last saved (a draft), shown as a time on both tabs
    due: date | None = None
    alarm: bool = False


class Section:
    """A list on the workbench: `count` is counted at once; `rows` are read when the template first asks."""

    def __init__(self, key, title, count, rows, *, url="", tab=TO_DO, alarm=False, in_total=True, badge=""):
        self.key, self.title, self.count, self.url, self.tab, self.alarm = key, title, count, url, tab, alarm
        self.badge = badge  # the menu badge (govcms/navigation.py) counting the same rows, if any
        self._rows = rows
        # Views across other sections' work (overdue, due soon) are not added to the tab's count a second time.
        self.in_total = in_total

    @cached_property
    def rows(self) -> list[Row]:
        if not self.count:
            return []
        return list(self._rows() if callable(self._rows) else self._rows)

    def __repr__(self):
        return f"<Section {self.tab}:{self.key} {self.count}>"


def first_rows(queryset, count: int):
    """The first TOP rows of an ordered queryset holding `count`. Without a LIMIT when that is all of them: with
    one, PostgreSQL may walk the ordering's index through 200,000 cases to find a department's six overdue ones
    (210 ms); without, it finds them by their filter and sorts six rows."""
    return queryset if count <= TOP else queryset[:TOP]


def section(key, title, queryset, row, *, url="", tab=TO_DO, alarm=False, in_total=True, badge="") -> Section:
    """The rows of `queryset` (already ordered): its COUNT now, its first TOP rows (as `row(obj)`) when shown."""
    count = queryset.count()
    rows = lambda: [row(obj) for obj in first_rows(queryset, count)]  # noqa: E731
    return Section(key, title, count, rows, url=url, tab=tab, alarm=alarm, in_total=in_total, badge=badge)


def waiting(key, title, action, user, queryset, row, *, url="", tab=TO_DO, badge="") -> Section | None:
    """What `user` may do `action` to now, within `queryset` (ordered): the action's candidates counted in SQL, the
    first TOP asked `check` again. None when the user lacks the action's permission (the section is not theirs)."""
    if action.permission and not user.has_perm(action.permission):
        return None
    candidates = action.candidates(queryset, user)
    count = candidates.count()
    rows = lambda: [row(obj) for obj in first_rows(candidates, count) if action.allowed(user, obj)]  # noqa: E731
    return Section(key, title, count, rows, url=url, tab=tab, badge=badge)


def count_once(request, key: str, count) -> int:
    """`count()` once per request for `key`: a menu badge and the workbench section of the same rows share it."""
    counts = request.__dict__.setdefault("_govcms_counts", {})
    if key not in counts:
        counts[key] = count()
    return counts[key]


@dataclass
class Card:
    """A figure at the top of the workbench (this week's sends, overdue cases, ...)."""

    key: str
    label: str
    value: object
    hint: str = ""
    url: str = ""
    alarm: bool = False
    lines: list = field(default_factory=list)  # (label, value) pairs under the figure


def panel(key: str, title: str, sections, cards=()) -> dict | None:
    """An app's part of the workbench: the sections that are this person's (None: not theirs) and its cards."""
    sections = [item for item in sections if item is not None]
    if not sections and not cards:
        return None
    return {"key": key, "title": title, "sections": sections, "cards": list(cards)}


def active_tab(request) -> str:
    tab = request.GET.get("tab", TO_DO)
    return tab if tab in TABS else TO_DO


def gather(request, panels: list[dict]) -> dict:
    """The index's context: cards, the tabs with their totals, and per panel the sections of the active tab."""
    tab = active_tab(request)
    totals = dict.fromkeys(TABS, 0)
    groups, cards, extras = [], [], []
    for panel in panels:
        sections = [s for s in panel.get("sections", ()) if s is not None]
        for item in sections:
            totals[item.tab] += item.count if item.in_total else 0
            if item.badge:
                count_once(request, item.badge, lambda item=item: item.count)
        shown = [s for s in sections if s.tab == tab]
        if shown:
            groups.append({"title": panel["title"], "key": panel.get("key", ""), "sections": shown})
        cards.extend(panel.get("cards", ()))
        if panel.get("template"):
            extras.append(panel)
    return {
        "workbench_tab": tab,
        "workbench_tabs": [{"key": key, "count": totals[key]} for key in TABS],
        "workbench_groups": groups,
        "workbench_cards": cards,
        "dashboard_panels": extras,
    }
