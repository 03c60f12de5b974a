"""The article-body HTML allowlist, and the only code that decides what markup may reach the portal.

Bodies come from CKEditor 5 (and whatever people paste into it from Word or other web pages), and are
rendered unescaped on the public site, so anything not named below is removed. The actual parsing and
cleaning is done by nh3 (ammonia on html5ever, i.e. a browser-grade HTML5 parser); this module only states
the policy and adds what nh3 cannot express on its own: per-element URL schemes, the iframe host check,
and bounds on nesting that keep the HTML5 parser linear on hostile input.
"""

import logging
import re
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DEFAULT_IFRAME_HOSTS = ("v.qq.com", "player.bilibili.com", "player.youku.com")

ALLOWED_TAGS = frozenset(
    {
        "p", "h2", "h3", "h4", "br", "hr",
        "strong", "b", "em", "i", "u", "s", "sub", "sup",
        "blockquote", "pre", "code",
        "ul", "ol", "li",
        "a",
        "figure", "figcaption", "img",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
        # Only kept when its src is an https URL on an allowed host; see _iframe_src_allowed.
        "iframe",
    }
)  # fmt: skip

# Elements removed together with everything inside them: their content is code or foreign markup, never prose.
REMOVED_WITH_CONTENT_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "object", "embed", "svg", "math",
        "applet", "noembed", "noframes", "xmp", "title", "textarea", "select",
    }
)  # fmt: skip

# `class` is deliberately absent: classes are filtered value by value through ALLOWED_CLASSES instead.
# `style` is absent everywhere: CSS can exfiltrate, overlay the page and (in old browsers) run script.
ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "iframe": frozenset({"src", "width", "height", "allowfullscreen", "title"}),
    "th": frozenset({"colspan", "rowspan"}),
    "td": frozenset({"colspan", "rowspan"}),
    # CKEditor's list-properties plugin numbers lists with these.
    "ol": frozenset({"start", "reversed"}),
}

# Set on every kept iframe, overriding anything the author wrote: the player may run its own script, but
# it can never navigate the portal page, open pop-ups or submit forms, and learns nothing of the referrer.
IFRAME_ENFORCED_ATTRIBUTES = {
    "sandbox": "allow-scripts allow-same-origin allow-presentation",
    "referrerpolicy": "no-referrer",
}

# Attributes whose value must come from a fixed set; anything else is dropped.
ALLOWED_ATTRIBUTE_VALUES = {
    # Only opening in a new tab; named frames could target (and navigate) other windows of the site.
    "a": {"target": frozenset({"_blank"})},
    "th": {"scope": frozenset({"row", "col", "rowgroup", "colgroup"})},
    # Accepting the enforced values as they stand keeps their position in the tag, so that a second
    # cleaning writes the iframe exactly as the first did (nh3 appends missing ones in random order).
    "iframe": {name: frozenset({value}) for name, value in IFRAME_ENFORCED_ATTRIBUTES.items()},
}

LINK_REL = "noopener noreferrer"

_IMAGE_CLASSES = frozenset(
    {
        "image_resized",
        "image-style-side",
        "image-style-align-left",
        "image-style-align-right",
        "image-style-align-center",
        "image-style-block-align-left",
        "image-style-block-align-right",
    }
)
# Alignment configured in CKEditor with class names, so that it survives the removal of `style`.
_ALIGNMENT_CLASSES = frozenset({"text-align-left", "text-align-center", "text-align-right", "text-align-justify"})
# The languages of CKEditor's default code-block configuration.
_CODE_LANGUAGE_CLASSES = frozenset(
    f"language-{name}"
    for name in (
        "plaintext", "c", "cs", "cpp", "css", "diff", "html", "java",
        "javascript", "php", "python", "ruby", "typescript", "xml",
    )
)  # fmt: skip

ALLOWED_CLASSES = {
    "figure": frozenset({"image", "table"}) | _IMAGE_CLASSES,
    "img": _IMAGE_CLASSES,
    "p": _ALIGNMENT_CLASSES,
    "h2": _ALIGNMENT_CLASSES,
    "h3": _ALIGNMENT_CLASSES,
    "h4": _ALIGNMENT_CLASSES,
    "code": _CODE_LANGUAGE_CLASSES,
}

# Schemes allowed in links. Relative and root-relative URLs (no scheme) are always allowed.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Images are fetched by every visitor's browser without a click, so they get fewer schemes than links.
IMAGE_URL_SCHEMES = frozenset({"http", "https"})
IFRAME_URL_SCHEMES = frozenset({"https"})

# Converges in two passes in practice; the bound only stops a pathological input from looping forever.
_MAX_PASSES = 6

_URL_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")


def iframe_hosts() -> frozenset[str]:
    """Hosts an embedded player may come from (settings.CONTENT_IFRAME_HOSTS)."""
    try:
        hosts = getattr(settings, "CONTENT_IFRAME_HOSTS", DEFAULT_IFRAME_HOSTS)
    except ImproperlyConfigured:
        # Outside a configured project (a bare script, a test run without pytest-django) use the defaults.
        hosts = DEFAULT_IFRAME_HOSTS
    if isinstance(hosts, str):
        # A single host written without brackets must not become a set of letters.
        hosts = [hosts]
    return frozenset(str(host).strip().lower() for host in hosts or () if str(host).strip())


def sanitize_html(html: str) -> str:
    """Return `html` reduced to the article-body allowlist. Idempotent, and never raises."""
    if not isinstance(html, str):
        html = "" if html is None else str(html)
    if not html:
        return ""
    return _sanitize(html, iframe_hosts())


# A save passes the same body through the form, the service and the model field (article and
# revision): remember the last few results instead of cleaning up to 2 MB four times. The result
# depends only on the text and the allowed iframe hosts, which are both part of the key.
@lru_cache(maxsize=4)
def _sanitize(html: str, hosts: frozenset[str]) -> str:
    try:
        text = _valid_unicode(html)
        cleaned = _clean_once(text, hosts)
        # A fragment can parse differently once disallowed wrappers are gone (mis-nested tables and
        # formatting tags); cleaning until nothing changes is what makes saving an article twice harmless.
        for _ in range(_MAX_PASSES):
            again = _clean_once(cleaned, hosts)
            if again == cleaned:
                break
            cleaned = again
        return cleaned
    except BaseException as error:
        # A panic inside nh3's Rust code reaches Python as pyo3's PanicException, which is not an Exception.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        # Fail closed: an article body that cannot be cleaned is stored as its escaped text, never as-is.
        logger.exception("Could not sanitise an HTML fragment of %d characters; storing it as text", len(html))
        return _escape_text(html)


def images_missing_alt(html: str) -> int:
    """How many <img> in `html` have no alt text (missing, empty or only whitespace) for screen readers."""
    counter = _MissingAltCounter()
    _feed(counter, html)
    return counter.count


def html_to_text(html: str) -> str:
    """Plain text of `html`, one line per block, for search indexing, revision diffs and digests."""
    extractor = _TextExtractor()
    _feed(extractor, html)
    return extractor.text()


def _clean_once(html: str, hosts: frozenset[str]) -> str:
    html = _limit_nesting(html)
    cleaned = _nh3_clean(html, hosts, with_iframes=True)
    if len(cleaned) > _MAX_GROWTH * len(html) + _GROWTH_ALLOWANCE:
        # Real bodies shrink when cleaned. Growth like this comes from the parser re-opening unclosed
        # formatting tags in every following block: keep the words and drop the markup.
        logger.warning(
            "Cleaning grew an HTML fragment from %d to %d characters; keeping its text", len(html), len(cleaned)
        )
        paragraphs = "".join(f"<p>{_escape_text(line)}</p>" for line in html_to_text(cleaned).splitlines())
        return _nh3_clean(paragraphs, hosts, with_iframes=False)
    # nh3 escapes "<" in text and writes tag names in lower case: without this substring there is no iframe.
    if "<iframe" not in cleaned:
        return cleaned
    try:
        filtered = _IframeFilter.filter(cleaned, hosts)
    except Exception:
        # The filter is a second parser over nh3's output; if it ever disagrees, losing embeds is the safe side.
        logger.exception("Could not filter iframes; removing them all")
        return _nh3_clean(html, hosts, with_iframes=False)
    # The filter only removes markup, but its output goes through nh3 again so that whatever it wrote is
    # held to the same allowlist as the author's input.
    return _nh3_clean(filtered, hosts, with_iframes=True)


def _nh3_clean(html: str, hosts: frozenset[str], *, with_iframes: bool) -> str:
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "class":
            # nh3 would filter the names too, but leave class="" behind on every pasted <p class=MsoNormal>.
            names = [name for name in value.split() if name in ALLOWED_CLASSES.get(tag, ())]
            return " ".join(dict.fromkeys(names)) or None
        # nh3 has already checked URL_SCHEMES on href and src; this narrows them per element.
        if attribute == "src":
            if tag == "iframe":
                return value if _iframe_src_allowed(value, hosts) else None
            allowed = IMAGE_URL_SCHEMES
        elif attribute == "href":
            allowed = URL_SCHEMES
        else:
            return value
        scheme = _url_scheme(value)
        return value if scheme is None or scheme in allowed else None

    # Without iframes, they join the removed-with-content tags, and nh3 panics if a removed tag still has
    # attribute rules: every table below is built from the same `kept` set.
    removed = set(REMOVED_WITH_CONTENT_TAGS) if with_iframes else set(REMOVED_WITH_CONTENT_TAGS | {"iframe"})
    kept = set(ALLOWED_TAGS - removed)
    return nh3.clean(
        html,
        tags=kept,
        clean_content_tags=removed,
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items() if tag in kept},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel=LINK_REL,
        tag_attribute_values={
            tag: {name: set(values) for name, values in rules.items()}
            for tag, rules in ALLOWED_ATTRIBUTE_VALUES.items()
            if tag in kept
        },
        set_tag_attribute_values={"iframe": dict(IFRAME_ENFORCED_ATTRIBUTES)} if "iframe" in kept else {},
        url_schemes=set(URL_SCHEMES),
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items() if tag in kept},
    )


# html5ever checks scopes by walking its stack of open elements, so each tag costs up to the nesting depth
# (minutes of CPU for half a megabyte of "<div>"), and it re-opens every unclosed formatting element in each
# new block (29 KB of "<b id=n>" then "<p>x</p>" became 18 MB). _limit_nesting drops the start tags that
# would go past these bounds before nh3 sees them; no body written in CKEditor or Word comes near them.
_MAX_DEPTH = 128
_MAX_OPEN_FORMATTING = 12
_MAX_GROWTH = 4
_GROWTH_ALLOWANCE = 64 * 1024
# How far down the stack an end tag is matched; deeper matches are assumed not to close anything.
_END_TAG_REACH = 16

_TAG_TOKEN = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)[^>]*>?")
_VOID_TAGS = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input",
        "keygen", "link", "meta", "param", "source", "track", "wbr",
        # Never pushed in the body: their attributes are merged into the existing elements, or they are ignored.
        "html", "head", "body", "frameset",
    }
)  # fmt: skip
_FORMATTING_TAGS = frozenset(
    {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"}
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# The HTML standard's "special" elements: an end tag for an ordinary element never closes past them.
_SPECIAL_TAGS = _HEADING_TAGS | frozenset(
    {
        "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound", "blockquote", "body",
        "br", "button", "caption", "center", "col", "colgroup", "dd", "details", "dir", "div", "dl", "dt",
        "embed", "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset", "head", "header",
        "hgroup", "hr", "html", "iframe", "img", "input", "keygen", "li", "link", "listing", "main", "marquee",
        "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p", "param", "plaintext",
        "pre", "script", "search", "section", "select", "source", "style", "summary", "table", "tbody", "td",
        "template", "textarea", "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp",
        "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc",
    }
)  # fmt: skip
# An end tag for a special element does not close past these ("has an element in scope").
_SCOPE_BOUNDARY_TAGS = frozenset(
    {
        "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
        "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title",
    }
)  # fmt: skip
_EXTRA_SCOPE_BOUNDARIES = {"li": frozenset({"ol", "ul"}), "p": frozenset({"button"})}
_CLOSES_OPEN_P = _HEADING_TAGS | frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "dd",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "li", "listing",
        "main", "menu", "nav", "ol", "p", "plaintext", "pre", "search", "section", "summary", "ul", "xmp",
    }
)  # fmt: skip
_CLOSES_OPEN_SIBLING = {
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "tr": frozenset({"td", "th", "tr"}),
    "option": frozenset({"option"}),
    **dict.fromkeys(_HEADING_TAGS, _HEADING_TAGS),
}


def _limit_nesting(html: str) -> str:
    """`html` without the start tags (and their end tags) that would nest past the bounds above.

    Tracks a simplified stack of open elements that errs towards deeper than html5ever's: it only closes
    elements where the HTML standard certainly closes them too. Returns `html` itself when nothing is dropped.
    """
    stack: list[str] = []
    open_formatting: dict[str, int] = {}
    dropped: dict[str, int] = {}
    removed: list[tuple[int, int]] = []
    for token in _TAG_TOKEN.finditer(html):
        is_end, name = token.group(1), token.group(2).lower()
        if is_end:
            if dropped.get(name):
                dropped[name] -= 1
                removed.append(token.span())
                continue
            if open_formatting.get(name):
                open_formatting[name] -= 1
            _close_by_end_tag(stack, name)
            continue
        if name in _VOID_TAGS:
            continue
        if name == "a" and open_formatting.get("a"):
            # A link inside a link closes the first one.
            open_formatting["a"] -= 1
            _close_by_end_tag(stack, "a")
        if name in _CLOSES_OPEN_P and stack and stack[-1] == "p":
            stack.pop()
        siblings = _CLOSES_OPEN_SIBLING.get(name, ())
        while stack and stack[-1] in siblings:
            stack.pop()
        is_formatting = name in _FORMATTING_TAGS
        if len(stack) >= _MAX_DEPTH or (is_formatting and sum(open_formatting.values()) >= _MAX_OPEN_FORMATTING):
            dropped[name] = dropped.get(name, 0) + 1
            removed.append(token.span())
            continue
        stack.append(name)
        if is_formatting:
            open_formatting[name] = open_formatting.get(name, 0) + 1
    if not removed:
        return html
    kept, position = [], 0
    for start, end in removed:
        kept.append(html[position:start])
        position = end
    kept.append(html[position:])
    return "".join(kept)


def _close_by_end_tag(stack: list[str], name: str) -> None:
    boundaries = _SCOPE_BOUNDARY_TAGS | _EXTRA_SCOPE_BOUNDARIES.get(name, frozenset())
    for depth in range(1, min(len(stack), _END_TAG_REACH) + 1):
        node = stack[-depth]
        if node == name:
            del stack[-depth:]
            return
        if node in (boundaries if name in _SPECIAL_TAGS else _SPECIAL_TAGS):
            return


def _url_scheme(url: str) -> str | None:
    """The scheme of `url`, lower-cased, or None for a relative URL.

    Browsers skip tabs and newlines anywhere in a URL and control characters and spaces around it, which is
    how "jav&#x09;ascript:" still runs script. Skipping every control and whitespace character everywhere
    finds a scheme wherever any browser could, and refusing the few other URLs this flags costs nothing.
    """
    url = "".join(ch for ch in url if not (ch.isspace() or ch < " " or "\x7f" <= ch <= "\x9f")).lower()
    head, colon, _ = url.partition(":")
    if not colon or not head or not ("a" <= head[0] <= "z"):
        return None
    if any(ch not in _URL_SCHEME_CHARS for ch in head):
        # Not a valid scheme, so the browser resolves it as a relative path ("a/b:c", "?x=y:z").
        return None
    return head


def _iframe_src_allowed(src: str, hosts: frozenset[str]) -> bool:
    # Anything a browser would normalise away (whitespace, controls, backslashes read as slashes,
    # non-ASCII hosts mapped by IDNA) could make it see another host than urlsplit does: refuse it.
    if not src.isascii() or any(ch <= " " or ch in "\\\x7f" for ch in src):
        return False
    try:
        parts = urlsplit(src)
    except ValueError:
        return False
    # Comparing the whole netloc, not .hostname, refuses user-info ("v.qq.com@evil.example") and ports.
    return parts.scheme.lower() in IFRAME_URL_SCHEMES and parts.netloc.lower() in hosts


def _valid_unicode(text: str) -> str:
    # Lone surrogates (from JSON or a broken clipboard) cannot be encoded for nh3; they become U+FFFD.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _escape_text(text: str) -> str:
    try:
        return escape(_valid_unicode(text), quote=False).replace("\x00", "")
    except Exception:
        return ""


def _feed(parser: HTMLParser, markup: str) -> None:
    if not isinstance(markup, str) or not markup:
        return
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        # html.parser raises AssertionError on some malformed declarations ("<![if x]>" from Word); what
        # was parsed up to there is still the best answer these helpers can give.
        logger.debug("html.parser stopped early", exc_info=True)


class _IframeFilter(HTMLParser):
    """Re-serialises nh3's output, dropping iframes whose src nh3 removed and the content of all iframes.

    nh3 can only remove attributes, not the element holding them, so an iframe pointing to a refused host
    would otherwise remain as an empty frame; and html5ever keeps iframe content as raw text that is not
    rendered but would read as markup to any later parser (html_to_text, a feed generator...).
    """

    # Parse iframe content as raw text, as html5ever did, instead of as markup.
    CDATA_CONTENT_ELEMENTS = (*HTMLParser.CDATA_CONTENT_ELEMENTS, "iframe")

    def __init__(self, hosts: frozenset[str]):
        super().__init__(convert_charrefs=True)
        self.hosts = hosts
        self.parts: list[str] = []
        self.inside_iframe = False
        self.keep_iframe = False

    @classmethod
    def filter(cls, markup: str, hosts: frozenset[str]) -> str:
        parser = cls(hosts)
        parser.feed(markup)
        parser.close()
        if parser.inside_iframe:
            parser.handle_endtag("iframe")
        return "".join(parser.parts)

    def set_cdata_mode(self, elem, *args, **kwargs):
        # Newer Pythons pass escapable=...; whatever they pass goes through.
        super().set_cdata_mode(elem, *args, **kwargs)
        if self.cdata_elem == "iframe":
            # html5ever's raw text ends only at "</iframe" followed by space, "/" or ">", and it writes the
            # end tag as exactly "</iframe>"; html.parser would also stop at "</ iframe >" inside the content.
            self.interesting = re.compile("</iframe>")

    def handle_starttag(self, tag, attrs):
        if self.inside_iframe:
            return
        if tag == "iframe":
            self.inside_iframe = True
            src = dict(attrs).get("src")
            self.keep_iframe = src is not None and _iframe_src_allowed(src, self.hosts)
            if not self.keep_iframe:
                return
            # The enforced attributes go last in a fixed order, so that the output does not depend on nh3's.
            attrs = [(name, value) for name, value in attrs if name not in IFRAME_ENFORCED_ATTRIBUTES]
            attrs += IFRAME_ENFORCED_ATTRIBUTES.items()
        self.parts.append(_start_tag(tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "iframe" and self.inside_iframe:
            self.inside_iframe = False
            if self.keep_iframe:
                self.parts.append("</iframe>")
        elif not self.inside_iframe:
            self.parts.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.inside_iframe:
            self.parts.append(escape(data, quote=False))


def _start_tag(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    rendered = "".join(f' {name}="{escape(value or "", quote=True)}"' for name, value in attrs)
    return f"<{tag}{rendered}>"


class _MissingAltCounter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.count = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt is None or not alt.strip():
                self.count += 1


# Elements that start a new line of text. Table cells are left out so that a row reads as one line.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "math", "object", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.pre_depth = 0

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self.skipping.append(tag)
        if self.skipping:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "pre":
                self.pre_depth += 1
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        # A self-closed "<br/>" is one line break, not a start tag plus an end tag.
        if tag not in _SKIPPED_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag in self.skipping:
                while self.skipping.pop() != tag:
                    pass
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "pre" and self.pre_depth:
                self.pre_depth -= 1
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_data(self, data):
        if self.skipping:
            return
        # Outside <pre>, a newline in the source is only formatting; inside it, it is a line of the text.
        self.parts.append(data if self.pre_depth else data.replace("\r", " ").replace("\n", " "))
