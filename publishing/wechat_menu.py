"""An account's WeChat custom menu: checked against WeChat's limits, sent (menu/create), pulled (menu/get)
and compared, through the wechat channel's client (its shared access token and base URL). Pushing is a
person's decision: `publishing.actions.PushMenu` asks the limits (`menu_problems`) and calls `menu_send`.

WeChat counts names, keys and URLs in UTF-8 bytes: 16 bytes are four Chinese characters but sixteen
Latin letters, so `len()` of the text is the wrong measure.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from publishing.channels import wechat_api
from publishing.models import MenuButtonType, WeChatMenu

MAX_FIRST_LEVEL, MAX_SECOND_LEVEL = 3, 5
FIRST_NAME_MAX_BYTES, SECOND_NAME_MAX_BYTES = 16, 60
KEY_MAX_BYTES, URL_MAX_BYTES = 128, 1024
# The fields WeChat keeps for each type (anything else in an item is not compared).
TYPE_FIELDS = {
    MenuButtonType.CLICK: ("key",),
    MenuButtonType.VIEW: ("url",),
    MenuButtonType.MINIPROGRAM: ("url", "appid", "pagepath"),
    MenuButtonType.ARTICLE_ID: ("article_id",),
}
# Every field some type keeps (an item that opens sub-items keeps none).
ITEM_FIELDS = tuple(dict.fromkeys(field for fields in TYPE_FIELDS.values() for field in fields))
# WeChat's codes for a menu it refuses (first-level items, type, name, key; sub-items, their type, name, key, URL).
MENU_ERRORS = frozenset({40016, 40017, 40018, 40019, 40023, 40024, 40025, 40026, 40027})


class MenuRefused(ValidationError):
    """WeChat refused the menu or could not be asked; `problems` say why, in Chinese. A ValidationError, so the
    action that pushed rolls back and the admin shows the problems on the menu's page."""

    def __init__(self, problems: list[str]):
        super().__init__(problems)
        self.problems = problems


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def buttons_of(items) -> list[dict]:
    """WeChat's `button` list from menu items (objects or dicts with group, position, name, kind, key, url,
    appid, pagepath, article_id), in order. A group without its first-level item (position 0) is kept with an
    empty name, so the check names it."""
    groups: dict[int, dict] = {}
    for item in sorted(items, key=lambda i: (_get(i, "group"), _get(i, "position"))):
        group = groups.setdefault(_get(item, "group"), {"name": ""})
        button = group if _get(item, "position") == 0 else {}
        button["name"] = _get(item, "name") or ""
        kind = _get(item, "kind") or ""
        if kind:
            button["type"] = kind
            for field in TYPE_FIELDS.get(kind, ()):
                button[field] = _get(item, field) or ""
        if _get(item, "position") != 0:
            group.setdefault("sub_button", []).append(button)
    for group in groups.values():
        if group.get("sub_button"):
            # An item with sub-items opens them: WeChat ignores its own type.
            for field in ("type", *ITEM_FIELDS):
                group.pop(field, None)
    return list(groups.values())


def _get(item, field):
    return item.get(field) if isinstance(item, dict) else getattr(item, field)


def _first_label(number: int, button: dict) -> str:
    return _("first-level item %(number)s “%(name)s”") % {"number": number, "name": button.get("name", "")}


def _second_label(number: int, sub_number: int, button: dict) -> str:
    return _("sub-item %(sub)s “%(name)s” of first-level item %(number)s") % {
        "sub": sub_number,
        "name": button.get("name", ""),
        "number": number,
    }


def menu_problems(buttons: list[dict]) -> list[str]:
    """Every way `buttons` breaks WeChat's menu rules, each naming the item and the limit; [] when none."""
    problems = []
    if not 1 <= len(buttons) <= MAX_FIRST_LEVEL:
        problems.append(
            _("A menu has 1 to %(max)s first-level items; this one has %(count)s.")
            % {"max": MAX_FIRST_LEVEL, "count": len(buttons)}
        )
    for number, button in enumerate(buttons, start=1):
        label = _first_label(number, button)
        subs = button.get("sub_button") or []
        problems += _button_problems(label, button, FIRST_NAME_MAX_BYTES, is_parent=bool(subs))
        if len(subs) > MAX_SECOND_LEVEL:
            problems.append(
                _("%(item)s has %(count)s sub-items; at most %(max)s.")
                % {"item": label, "count": len(subs), "max": MAX_SECOND_LEVEL}
            )
        for sub_number, sub in enumerate(subs, start=1):
            problems += _button_problems(
                _second_label(number, sub_number, sub), sub, SECOND_NAME_MAX_BYTES, is_parent=False
            )
    return problems


def _button_problems(label: str, button: dict, name_limit: int, *, is_parent: bool) -> list[str]:
    problems = []
    name = button.get("name") or ""
    if not name.strip():
        problems.append(_("%(item)s: give it a name.") % {"item": label})
    elif _size(name) > name_limit:
        problems.append(
            _(
                "%(item)s: the name is %(size)s bytes; WeChat allows at most %(limit)s bytes (%(chars)s Chinese characters)."
            )
            % {"item": label, "size": _size(name), "limit": name_limit, "chars": name_limit // 3}
        )
    if is_parent:
        return problems
    kind = button.get("type") or ""
    key, url = button.get("key") or "", button.get("url") or ""
    if kind not in TYPE_FIELDS:
        problems.append(_("%(item)s: choose its type (or give it sub-items).") % {"item": label})
    if kind == MenuButtonType.CLICK and not key:
        problems.append(_("%(item)s: a click item needs a key.") % {"item": label})
    if _size(key) > KEY_MAX_BYTES:
        problems.append(
            _("%(item)s: the key is %(size)s bytes; WeChat allows at most %(limit)s bytes.")
            % {"item": label, "size": _size(key), "limit": KEY_MAX_BYTES}
        )
    if kind in (MenuButtonType.VIEW, MenuButtonType.MINIPROGRAM) and not url.startswith(("http://", "https://")):
        problems.append(_("%(item)s: give a web address starting with http:// or https://.") % {"item": label})
    if _size(url) > URL_MAX_BYTES:
        problems.append(
            _("%(item)s: the web address is %(size)s bytes; WeChat allows at most %(limit)s bytes.")
            % {"item": label, "size": _size(url), "limit": URL_MAX_BYTES}
        )
    if kind == MenuButtonType.MINIPROGRAM and not (button.get("appid") and button.get("pagepath")):
        problems.append(_("%(item)s: a mini program item needs the mini program's AppID and page.") % {"item": label})
    if kind == MenuButtonType.ARTICLE_ID and not button.get("article_id"):
        problems.append(_("%(item)s: an article item needs the published article's id.") % {"item": label})
    return problems


def _client(account):
    from publishing.channels.wechat import WeChatChannel

    return WeChatChannel(account).client()


def _refusal(error: wechat_api.WeChatAPIError) -> MenuRefused:
    if error.code in MENU_ERRORS:
        return MenuRefused(
            [_("WeChat refused the menu (%(code)s: %(message)s).") % {"code": error.code, "message": error.message}]
        )
    return MenuRefused([wechat_api.explain(error.code)])


def menu_send(*, account, buttons: list[dict]) -> None:
    """WeChat's menu/create with `buttons` (already checked by `menu_problems`); MenuRefused when WeChat says no."""
    try:
        _client(account).menu.create({"button": buttons})
    except wechat_api.WeChatAPIError as error:
        raise _refusal(error) from error


def menu_pull(*, menu: WeChatMenu) -> list[dict]:
    """The menu WeChat has now (menu/get), stored on `menu` for comparison; [] when the account has none."""
    try:
        answer = _client(menu.account).menu.get()
    except wechat_api.WeChatAPIError as error:
        raise _refusal(error) from error
    buttons = normalised((answer or {}).get("menu", {}).get("button", []))
    menu.remote_buttons, menu.pulled_at = buttons, timezone.now()
    menu.save(update_fields=["remote_buttons", "pulled_at"])
    return buttons


def normalised(buttons: list[dict]) -> list[dict]:
    """Buttons with only the fields their type keeps (menu/get adds empty sub_button lists and more)."""
    result = []
    for button in buttons:
        subs = button.get("sub_button")
        subs = subs.get("list", []) if isinstance(subs, dict) else subs or []
        clean = {"name": button.get("name", "")}
        if subs:
            clean["sub_button"] = normalised(subs)
        else:
            kind = button.get("type", "")
            if kind:
                clean["type"] = kind
            for field in TYPE_FIELDS.get(kind, ()):
                clean[field] = button.get(field, "")
        result.append(clean)
    return result


def menu_differences(saved: list[dict], remote: list[dict]) -> list[str]:
    """How the menu saved here differs from the one on WeChat, item by item; [] when they are the same."""
    here, there = _flat(normalised(saved)), _flat(normalised(remote))
    lines = []
    for place in sorted(set(here) | set(there)):
        mine, theirs = here.get(place), there.get(place)
        label = _place_label(place, mine or theirs)
        if theirs is None:
            lines.append(_("%(item)s: only here, not on WeChat.") % {"item": label})
        elif mine is None:
            lines.append(_("%(item)s: only on WeChat, not here.") % {"item": label})
        elif mine != theirs:
            fields = sorted(key for key in set(mine) | set(theirs) if mine.get(key) != theirs.get(key))
            lines.append(
                _("%(item)s differs in %(fields)s: here %(here)s, on WeChat %(there)s.")
                % {
                    "item": label,
                    "fields": "、".join(fields),
                    "here": "，".join(str(mine.get(key, "")) for key in fields),
                    "there": "，".join(str(theirs.get(key, "")) for key in fields),
                }
            )
    return lines


def _flat(buttons: list[dict]) -> dict[tuple[int, int], dict]:
    places = {}
    for number, button in enumerate(buttons, start=1):
        places[(number, 0)] = {key: value for key, value in button.items() if key != "sub_button"}
        for sub_number, sub in enumerate(button.get("sub_button", []), start=1):
            places[(number, sub_number)] = sub
    return places


def _place_label(place: tuple[int, int], button: dict) -> str:
    number, sub_number = place
    return _first_label(number, button) if sub_number == 0 else _second_label(number, sub_number, button)
