"""Text on the public pages is readable: every style rule that sets a text colour, on the background it
sits on, reaches WCAG AA (4.5:1). The background is the rule's own, the red header's for rules scoped
to `header`, and the white page's for every other rule: an unscoped `nav a{color:#fff}` once turned the
sub-navigation of /disclosure/ and /hudong/ white on white."""

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/", "/search/?q=test", "/disclosure/", "/disclosure/funds/", "/disclosure/funds/own/", "/hudong/",
         "/hudong/write/", "/hudong/track/"]  # fmt: skip
STYLE = re.compile(r"<style>(.*?)</style>", re.S)
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(digits[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def style_rules(page: str) -> list[tuple[str, dict[str, str]]]:
    rules = []
    for css in STYLE.findall(page):
        for selectors, body in RULE.findall(css):
            declarations = dict(
                (part.split(":", 1)[0].strip(), part.split(":", 1)[1].strip())
                for part in body.split(";")
                if ":" in part
            )
            rules.append((selectors.strip(), declarations))
    return rules


def resolve(value: str, variables: dict[str, str]) -> str | None:
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], value)
    found = HEX.search(value)
    return found.group(0) if found else None


def low_contrast_rules(page: str) -> list[str]:
    rules = style_rules(page)
    variables = {name: value for selectors, decl in rules if selectors == ":root" for name, value in decl.items()}
    header_background = next(
        resolve(decl["background"], variables) for selectors, decl in rules if selectors == "header"
    )
    found = []
    for selectors, decl in rules:
        colour = resolve(decl.get("color", ""), variables)
        if colour is None:
            continue
        own = decl.get("background-color") or decl.get("background")
        for selector in selectors.split(","):
            if own:
                background = resolve(own, variables)
            elif selector.strip().startswith("header"):
                background = header_background
            else:
                background = "#fff"
            ratio = contrast(colour, background)
            if ratio < 4.5:
                found.append(f"{selector.strip()}: {colour} on {background} is {ratio:.2f}:1")
    return found


def test_contrast_measures_like_wcag():
    assert round(contrast("#fff", "#000"), 1) == 21.0
    assert round(contrast("#595959", "#fff"), 1) == 7.0
    assert low_contrast_rules("<style>:root{--a:#fff}header{background:#000}nav a{color:var(--a)}</style>") == [
        "nav a: #fff on #fff is 1.00:1"
    ]


@pytest.mark.parametrize("url", PAGES)
def test_every_text_colour_on_public_pages_reaches_aa(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert low_contrast_rules(response.content.decode()) == []
