"""Plain rendering of the public search forms.

Django renders a form field through three templates (field group, label, widget) and one more per
select option; on a search page that answers in a few milliseconds that was a third of the time.
These pages only have text inputs and selects, so they are written out here directly, with the
same accessible markup: a label for each field, errors and help linked by aria-describedby.
"""

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def plain_field(field) -> str:
    widget = field.field.widget
    ident = field.auto_id
    described = []
    errors = ""
    if field.errors:
        described.append(f"{ident}_error")
        errors = format_html(
            '<ul class="errorlist" id="{}_error">{}</ul>',
            ident,
            format_html_join("", "<li>{}</li>", ((error,) for error in field.errors)),
        )
    help_text = ""
    if field.help_text:
        described.append(f"{ident}_helptext")
        help_text = format_html('<div class="helptext" id="{}_helptext">{}</div>', ident, field.help_text)
    attrs = dict(widget.attrs)
    if described:
        attrs["aria-describedby"] = " ".join(described)
    # required, aria-invalid and the help text's aria-describedby, as Django's own rendering sets them
    attrs = field.build_widget_attrs(attrs)
    extra = format_html_join(
        "", "{}", ((format_html(" {}", key) if given is True else format_html(' {}="{}"', key, given),)
                   for key, given in sorted(attrs.items()) if given is not False and given is not None)
    )  # fmt: skip
    value = field.value()
    value = "" if value is None else str(value)
    if isinstance(widget, forms.Select):
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, mark_safe(" selected") if str(key) == value else "", label) for key, label in field.field.choices),  # noqa: S308
        )
        control = format_html('<select name="{}" id="{}"{}>{}</select>', field.html_name, ident, extra, options)
    else:
        kind = getattr(widget, "input_type", "text")
        control = format_html(
            '<input type="{}" name="{}" value="{}" id="{}"{}>', kind, field.html_name, value, ident, extra
        )
    return format_html('<label for="{}">{}</label>{}{}{}', ident, field.label, errors, control, help_text)
