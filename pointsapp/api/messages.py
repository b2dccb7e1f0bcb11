"""Error messages of the API in the caller's language, including the ones marshmallow and HTTP errors write in English.

Domain errors are translated where they are raised. What reaches the error
body in English from libraries (marshmallow's field messages, HTTP status
texts) is looked up here: first as a catalog message, then by the shape of
marshmallow's messages with numbers or choices in them.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Marshmallow's fixed messages, listed so that the catalog carries them.
LIBRARY_MESSAGES = (
    _l("Missing data for required field."), _l("Field may not be null."), _l("Invalid input type."), _l("Unknown field."),
    _l("Not a valid integer."), _l("Not a valid string."), _l("Not a valid boolean."), _l("Not a valid number."),
    _l("Not a valid date."), _l("Not a valid datetime."), _l("Not a valid email address."), _l("Not a valid list."),
    _l("Not a valid mapping type."), _l("Not a valid URL."), _l("Invalid value."), _l("Invalid input."), _l("Invalid type."),
    _l("Not a valid aware datetime."), _l("String does not match expected pattern."), _l("Number too large."),
    _l("Special numeric values (nan or infinity) are not permitted."), _l("Not a valid utf-8 string."),
)

_SHAPES = (
    (re.compile(r"^Must be one of: (?P<choices>.+)\.$"), lambda m: _("Must be one of: %(choices)s.", choices=m["choices"])),
    (re.compile(r"^Length must be between (?P<low>\d+) and (?P<high>\d+)\.$"),
     lambda m: _("Length must be between %(low)s and %(high)s.", low=m["low"], high=m["high"])),
    (re.compile(r"^Shorter than minimum length (?P<low>\d+)\.$"), lambda m: _("Shorter than minimum length %(low)s.", low=m["low"])),
    (re.compile(r"^Longer than maximum length (?P<high>\d+)\.$"), lambda m: _("Longer than maximum length %(high)s.", high=m["high"])),
    (re.compile(r"^Must be greater than or equal to (?P<low>-?[\d.]+) and less than or equal to (?P<high>-?[\d.]+)\.$"),
     lambda m: _("Must be greater than or equal to %(low)s and less than or equal to %(high)s.", low=m["low"], high=m["high"])),
    (re.compile(r"^Must be greater than or equal to (?P<low>-?[\d.]+)\.$"),
     lambda m: _("Must be greater than or equal to %(low)s.", low=m["low"])),
    (re.compile(r"^Must be less than or equal to (?P<high>-?[\d.]+)\.$"),
     lambda m: _("Must be less than or equal to %(high)s.", high=m["high"])),
)


def translated(message):
    """A message (or a list / dict of them, as in ``fields``) in the caller's language where the catalog has it."""
    if isinstance(message, list):
        return [translated(item) for item in message]
    if isinstance(message, dict):
        return {key: translated(value) for key, value in message.items()}
    if not isinstance(message, str) or not message:
        return message
    text = _(message)
    if text != message:
        return text
    for shape, render in _SHAPES:
        if match := shape.match(message):
            return render(match)
    return message
