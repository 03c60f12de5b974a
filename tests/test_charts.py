"""Server-side SVG charts: valid XML, accessible, escaped, proportional and deterministic."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils.safestring import SafeString

from shared.charts import axis_top, bar_chart, column_chart, format_value, text_width

SVG = "{http://www.w3.org/2000/svg}"
DEPARTMENTS = [("县教育局", 40), ("县公安局", 20), ("县政府办公室", 10)]


def parse(svg) -> ET.Element:
    assert isinstance(svg, SafeString)
    return ET.fromstring(str(svg))  # noqa: S314 - our own output, not untrusted input


def bars(root):
    return [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def test_bar_chart_is_valid_svg_named_for_screen_readers():
    root = parse(bar_chart(DEPARTMENTS, title="各部门收件数", unit="件"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "各部门收件数"
    assert root.find(f"{SVG}title").text == "各部门收件数"
    assert root.find(f"{SVG}desc").text == "县教育局：40件; 县公安局：20件; 县政府办公室：10件"
    assert "Noto Sans CJK SC" in root.get("font-family")


def test_bar_widths_are_proportional_to_values():
    widths = [float(rect.get("width")) for rect in bars(parse(bar_chart(DEPARTMENTS, title="t")))]
    assert widths[0] > 0
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.1)
    assert widths[2] == pytest.approx(widths[0] / 4, abs=0.1)


def test_values_are_written_at_the_end_of_each_bar():
    root = parse(bar_chart(DEPARTMENTS, title="t", unit="件"))
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert ["40件", "20件", "10件"] == [t for t in texts if t and t.endswith("件")]


def test_percent_bars_scale_to_one_hundred():
    root = parse(bar_chart([("县教育局", Decimal("50")), ("县公安局", 87.46)], title="按期办结率", percent=True))
    first, second = (float(rect.get("width")) for rect in bars(root))
    assert second / first == pytest.approx(87.46 / 50, rel=0.01)
    assert "87.5%" in [text.text for text in root.iter(f"{SVG}text")]


def test_max_value_sets_the_scale_and_bigger_values_are_capped():
    root = parse(bar_chart([("a", 5), ("b", 10), ("c", 30)], title="t", max_value=10))
    first, second, third = (float(rect.get("width")) for rect in bars(root))
    assert second == pytest.approx(first * 2, abs=0.1)
    assert third == second


def test_zero_and_negative_values_draw_empty_bars():
    widths = [float(r.get("width")) for r in bars(parse(bar_chart([("a", 0), ("b", -3)], title="t")))]
    assert widths == [0, 0]


def test_script_in_labels_and_title_is_escaped():
    svg = bar_chart([("<script>alert(1)</script>", 3)], title='"><script>x</script>', unit="<b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    root = parse(svg)
    assert root.get("aria-label") == '"><script>x</script>'
    assert not list(root.iter(f"{SVG}script"))


def test_long_labels_are_cut_to_fit_but_kept_whole_in_the_description():
    name = "示范县农业农村局乡村振兴服务中心" * 3
    root = parse(bar_chart([(name, 1)], title="t", width=400))
    drawn = next(text.text for text in root.iter(f"{SVG}text") if text.text and text.text.startswith("示范县"))
    assert drawn.endswith("…")
    assert text_width(drawn) <= 400 * 0.35
    assert name in root.find(f"{SVG}desc").text


def test_text_width_counts_chinese_as_one_em_and_latin_as_less():
    assert text_width("教育局", 10) == 30
    assert text_width("abc", 10) == pytest.approx(18)


def test_output_is_deterministic():
    items = [("县教育局", 1 / 3), ("县公安局", 2 / 3)]
    assert bar_chart(items, title="t") == bar_chart(items, title="t")
    args = (["收到", "已答复"], ["1月", "2月"], [[3, 4], [2, 4]])
    assert column_chart(*args, title="t") == column_chart(*args, title="t")


def test_empty_data_says_no_data():
    for svg in (
        bar_chart([], title="满意度"),
        column_chart([], [], [], title="按月"),
        column_chart(["a"], [], [[]], title="x"),
    ):
        root = parse(svg)
        assert root.get("role") == "img"
        assert "暂无数据" in [text.text for text in root.iter(f"{SVG}text")]


def test_column_chart_groups_series_with_a_legend_and_proportional_heights():
    root = parse(
        column_chart(
            ["收到", "已答复"],
            ["2025-01", "2025-02", "2025-03"],
            [[10, 20, 40], [5, 20, 0]],
            title="按月收件与答复",
            unit="件",
        )
    )
    assert root.get("aria-label") == "按月收件与答复"
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "收到" in texts and "已答复" in texts
    assert "2025-01" in texts
    columns = bars(root)
    assert len(columns) == 6
    heights = [float(rect.get("height")) for rect in columns]
    received = heights[0::2]
    replied = heights[1::2]
    assert received[1] == pytest.approx(received[0] * 2, abs=0.1)
    assert received[2] == pytest.approx(received[0] * 4, abs=0.1)
    assert replied[0] == pytest.approx(received[0] / 2, abs=0.1)
    assert replied[2] == 0
    # One colour per series, the legend's colours being the columns'.
    assert columns[0].get("fill") != columns[1].get("fill")
    assert columns[0].get("fill") == columns[2].get("fill")
    desc = root.find(f"{SVG}desc").text
    assert "2025-01：收到 10件, 已答复 5件" in desc


def test_column_chart_axis_is_round_and_whole_for_counts():
    root = parse(column_chart(["收到"], ["1月", "2月"], [[7, 9]], title="t"))
    ticks = [text.text for text in root.iter(f"{SVG}text") if text.get("text-anchor") == "end"]
    assert ticks == ["0", "3", "6", "9", "12"]


def test_column_chart_slants_long_category_labels():
    names = ["示范县教育局基础教育股", "示范县公安局治安大队", "示范县人民政府办公室"] * 4
    root = parse(column_chart(["收到"], names, [[1] * 12], title="t"))
    labels = [text for text in root.iter(f"{SVG}text") if (text.get("transform") or "").startswith("rotate")]
    assert len(labels) == 12


def test_column_chart_escapes_series_and_categories():
    svg = column_chart(["<i>s</i>"], ["<script>c</script>"], [[1]], title="t")
    assert "<script>" not in svg and "<i>" not in svg
    parse(svg)


def test_column_chart_refuses_misshapen_values():
    with pytest.raises(ValueError, match="one row per series"):
        column_chart(["a", "b"], ["1月"], [[1]], title="t")


@pytest.mark.parametrize(
    ("value", "whole", "top"),
    [
        (0, True, 4),
        (3, True, 4),
        (9, True, 12),
        (87, True, 100),
        (1234, True, 1600),
        (Decimal("0.3"), False, Decimal("0.4")),
    ],
)
def test_axis_top(value, whole, top):
    assert axis_top(Decimal(value), whole=whole) == top


def test_format_value():
    assert format_value(1234) == "1,234"
    assert format_value(Decimal("87.45"), percent=True) == "87.5%"
    assert format_value(3.0, unit="天") == "3天"
