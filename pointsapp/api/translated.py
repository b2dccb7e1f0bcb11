"""Schema fields for names in two languages: given in any language, answered in the caller's."""

from __future__ import annotations

import marshmallow as ma

from pointsapp import names


class Localized(ma.fields.String):
    """A name or description: loads as plain text, dumps in the caller's language (base text as fallback)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if getattr(obj, "translations", None):
            return names.localized(obj, self.attribute or attr)
        return super()._serialize(value, attr, obj, **kwargs)


NAMES_EXAMPLE = 'Names in other languages, e.g. {"zh": {"name": "贷款签约", "description": "…"}}'


def Translations(description: str = NAMES_EXAMPLE, **kwargs) -> ma.fields.Dict:  # noqa: N802 - reads like a field class
    """``{"zh": {"name": …, "description": …}}``; checked by the domain (names.clean_translations)."""
    return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), metadata={"description": description}, **kwargs)
