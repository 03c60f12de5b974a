"""Column helpers for the admin lists (django-unfold)."""

from unfold.decorators import display


def state_label(model, colours: dict[str, str], *, field: str = "state"):
    """A list column showing `field`'s choice as a coloured label: `colours` maps values to one of unfold's label
    types ("info", "warning", "success", "danger", "primary"); the other values are grey. Sorted by the field."""
    model_field = model._meta.get_field(field)
    # unfold shows the raw value of a state missing from the map, so every choice gets a type.
    types = {value: colours.get(value, "default") for value, _label in model_field.choices}

    def show(self, obj):
        return getattr(obj, field), getattr(obj, f"get_{field}_display")()

    return display(description=model_field.verbose_name, ordering=field, label=types)(show)
