"""Server-side SVG charts for the statistics pages: pictures as well as tables, with no JavaScript and no network.

Each function returns an inline `<svg>` (SafeString) that scales to its container, names itself to
screen readers (role="img", aria-label, <title>) and lists its numbers in <desc>, so the picture
never holds information the page does not also give in words. Every piece of text is escaped.
Output is deterministic: the same numbers always give the same bytes (cacheable, testable).
"""

import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Okabe-Ito: told apart by people with any common colour-vision deficiency, all dark enough for white text.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
INK = "#1F2937"
GRID = "#D1D5DB"
FONT_FAMILY = "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
FONT_SIZE = 13
TITLE_SIZE = 15


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """Approximate rendered width: Chinese (wide) characters take a full em, others about 0.6 em."""
    return sum(font_size if unicodedata.east_asian_width(c) in ("W", "F") else font_size * 0.6 for c in text)


def _fit(text: str, width: float, font_size: float = FONT_SIZE) -> str:
    """`text`, cut with an ellipsis so it takes at most `width`; the full text stays in <desc>."""
    if text_width(text, font_size) <= width:
        return text
    while text and text_width(text + "…", font_size) > width:
        text = text[:-1]
    return text + "…"


def _n(number: float) -> str:
    """A coordinate with at most one decimal: stable text whatever the float's last bits."""
    return str(Decimal(repr(float(number))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)).removesuffix(".0")


def format_value(value, *, unit: str = "", percent: bool = False) -> str:
    """1234 -> "1,234"; 87.456 -> "87.5"; percentages get "%"; otherwise the unit follows."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        text = f"{int(number):,}"
    else:
        text = f"{number.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}"
    return f"{text}%" if percent else f"{text}{unit}"


def _svg(width: float, height: float, title: str, desc: str, body: list[str]) -> SafeString:
    title = escape(title)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" style="max-width:100%;height:auto" role="img" '
        f'aria-label="{title}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" fill="{INK}">'
        f"<title>{title}</title><desc>{escape(desc)}</desc>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above and in body is escaped


def _heading(title: str, width: float) -> str:
    return (
        f'<text x="0" y="{TITLE_SIZE + 2}" font-size="{TITLE_SIZE}" font-weight="bold">'
        f"{escape(_fit(title, width, TITLE_SIZE))}</text>"
    )


def no_data_chart(*, title: str, width: int = 640) -> SafeString:
    message = _("No data")
    body = [
        _heading(title, width),
        f'<rect x="0.5" y="28.5" width="{width - 1}" height="50" fill="#F9FAFB" stroke="{GRID}"/>',
        f'<text x="{_n(width / 2)}" y="58" text-anchor="middle" fill="#6B7280">{escape(message)}</text>',
    ]
    return _svg(width, 80, title, message, body)


def _fixed_scale(max_value, percent: bool) -> Decimal | None:
    """The scale the caller fixed (`max_value`, or 100 for percentages); None to scale to the data."""
    if max_value:
        return Decimal(str(max_value))
    return Decimal(100) if percent else None


def _line(label: str, value: str) -> str:
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def bar_chart(
    items,
    *,
    title: str,
    unit: str = "",
    max_value=None,
    width: int = 640,
    bar_height: int = 22,
    percent: bool = False,
) -> SafeString:
    """Horizontal bars, one per (label, value), longest for the largest value (or `max_value`).
    With `percent=True` values are percentages (0-100), the scale runs to 100 and values read "87.5%".
    Negative values draw as empty bars; values above `max_value` are drawn full length."""
    items = [(str(label), Decimal(str(value))) for label, value in items]
    if not items:
        return no_data_chart(title=title, width=width)
    texts = [format_value(value, unit=unit, percent=percent) for _label, value in items]
    scale = _fixed_scale(max_value, percent) or max(value for _label, value in items)
    label_width = min(max(text_width(label) for label, _value in items), width * 0.35)
    value_width = max(text_width(text) for text in texts)
    bar_x = label_width + 8
    room = max(width - bar_x - value_width - 8, 10)
    gap, top = 8, 30
    body = [_heading(title, width)]
    for index, ((label, value), text) in enumerate(zip(items, texts, strict=True)):
        y = top + index * (bar_height + gap)
        share = min(max(value, Decimal(0)) / scale, Decimal(1)) if scale > 0 else Decimal(0)
        length = float(share) * room
        middle = y + bar_height / 2
        body.append(
            f'<g><text x="{_n(label_width)}" y="{_n(middle)}" text-anchor="end" dominant-baseline="central">'
            f"{escape(_fit(label, label_width))}</text>"
            f'<rect x="{_n(bar_x)}" y="{_n(y)}" width="{_n(length)}" height="{bar_height}" fill="{PALETTE[0]}">'
            f"<title>{escape(_line(label, text))}</title></rect>"
            f'<text x="{_n(bar_x + length + 4)}" y="{_n(middle)}" dominant-baseline="central">{escape(text)}</text></g>'
        )
    height = top + len(items) * (bar_height + gap)
    desc = "; ".join(_line(label, text) for (label, _value), text in zip(items, texts, strict=True))
    return _svg(width, height, title, desc, body)


def axis_top(value: Decimal, *, whole: bool) -> Decimal:
    """A round top for a value axis of four equal steps at or above `value`. Each step is what
    format_value writes exactly: a whole number for counts (`whole`; never "2.5 cases"), else one decimal."""
    if value <= 0:
        return Decimal(4) if whole else Decimal("0.4")
    raw = value / 4
    power = Decimal(10) ** raw.adjusted()
    places = Decimal(1) if whole else Decimal("0.1")
    for step in (1, 2, Decimal("2.5"), 3, 4, 5, 6, 8, 10):
        tick = power * step
        if tick >= raw and tick == tick.quantize(places):
            return tick * 4
    return power * 40


def column_chart(
    series_labels,
    categories,
    values_by_series,
    *,
    title: str,
    unit: str = "",
    max_value=None,
    width: int = 640,
    height: int = 300,
    percent: bool = False,
) -> SafeString:
    """Vertical columns grouped by category (a month, say), one colour per series (received, replied...),
    with a legend and a value axis. `values_by_series[s][c]` is series s in category c."""
    series_labels = [str(label) for label in series_labels]
    categories = [str(category) for category in categories]
    if not series_labels or not categories:
        return no_data_chart(title=title, width=width)
    values = [[Decimal(str(v)) for v in row] for row in values_by_series]
    if len(values) != len(series_labels) or any(len(row) != len(categories) for row in values):
        raise ValueError("values_by_series must have one row per series and one value per category")
    whole = all(v == v.to_integral_value() for row in values for v in row)
    top_value = _fixed_scale(max_value, percent) or axis_top(max(max(row) for row in values), whole=whole)
    axis_texts = [format_value(top_value * step / 4, unit=unit, percent=percent) for step in range(5)]
    left = max(text_width(text, 11) for text in axis_texts) + 8
    legend_y, plot_top = 36, 56
    plot_width = width - left - 8
    group = plot_width / len(categories)
    label_room = group - 4
    slanted = max(text_width(c, 11) for c in categories) > label_room
    bottom_room = (min(max(text_width(c, 11) for c in categories), 90) * 0.7 + 16) if slanted else 22
    plot_height = max(height - plot_top - bottom_room, 40)
    baseline = plot_top + plot_height
    body = [_heading(title, width)]
    x = left
    for index, label in enumerate(series_labels):
        colour = PALETTE[index % len(PALETTE)]
        body.append(
            f'<rect x="{_n(x)}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{_n(x + 16)}" y="{legend_y}">{escape(label)}</text>'
        )
        x += 16 + text_width(label) + 16
    for step, text in enumerate(axis_texts):
        y = baseline - plot_height * step / 4
        body.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(width - 4)}" y2="{_n(y)}" stroke="{GRID}"/>'
            f'<text x="{_n(left - 4)}" y="{_n(y)}" font-size="11" text-anchor="end" dominant-baseline="central">'
            f"{escape(text)}</text>"
        )
    column = min((group - 8) / len(series_labels), 40)
    for c_index, category in enumerate(categories):
        start = left + group * c_index + (group - column * len(series_labels)) / 2
        body.append("<g>")
        for s_index, label in enumerate(series_labels):
            value = values[s_index][c_index]
            share = min(max(value, Decimal(0)) / top_value, Decimal(1))
            bar = float(share) * plot_height
            line = _line(f"{category} {label}", format_value(value, unit=unit, percent=percent))
            body.append(
                f'<rect x="{_n(start + column * s_index)}" y="{_n(baseline - bar)}" width="{_n(column)}" '
                f'height="{_n(bar)}" fill="{PALETTE[s_index % len(PALETTE)]}"><title>{escape(line)}</title></rect>'
            )
        centre = left + group * (c_index + 0.5)
        if slanted:
            body.append(
                f'<text x="{_n(centre)}" y="{_n(baseline + 12)}" font-size="11" text-anchor="end" '
                f'transform="rotate(-40 {_n(centre)} {_n(baseline + 12)})">{escape(_fit(category, 90, 11))}</text>'
            )
        else:
            body.append(
                f'<text x="{_n(centre)}" y="{_n(baseline + 16)}" font-size="11" text-anchor="middle">'
                f"{escape(category)}</text>"
            )
        body.append("</g>")
    body.append(f'<line x1="{_n(left)}" y1="{_n(baseline)}" x2="{_n(width - 4)}" y2="{_n(baseline)}" stroke="{INK}"/>')
    desc = "; ".join(
        _line(
            category,
            ", ".join(
                f"{label} {format_value(values[s][c], unit=unit, percent=percent)}"
                for s, label in enumerate(series_labels)
            ),
        )
        for c, category in enumerate(categories)
    )
    return _svg(width, baseline + bottom_room, title, desc, body)
