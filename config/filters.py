"""Query parameters mean one thing: a single-valued one is given once, and a typed one is never
sent empty. Otherwise `?page_size=5&page_size=6` silently means the last one, and an empty date
silently means no filter: the caller gets rows it did not ask for. A list (`ordering`) may come
either way OpenAPI clients send one: `ordering=a,b` (the schema's `explode: false`) or
`ordering=a&ordering=b` (what several generated clients send for any array)."""

from collections.abc import Iterable

import django_filters
from django import forms
from django.http import QueryDict
from django_filters.filters import BaseCSVFilter
from rest_framework.exceptions import ValidationError

ONCE = "Give this parameter once."
NOT_EMPTY = "Leave this parameter out rather than sending it empty."
INVALID_CHOICE = '"%(value)s" is not a valid choice.'


def require_single_values(query_params: QueryDict, names: Iterable[str]) -> None:
    """Raise a 400 naming each of `names` that the query gives more than once."""
    repeated = {name: [ONCE] for name in names if len(query_params.getlist(name)) > 1}
    if repeated:
        raise ValidationError(repeated)


class StrictFilterSet(django_filters.FilterSet):
    """Filters take one value each (except multiple-choice ones, and comma-separated lists, whose
    repeats are joined into one list), and typed filters (dates, choices, ordering) refuse an empty
    one; free text may be empty."""

    def __init__(self, data: QueryDict | None = None, *args, **kwargs) -> None:
        lists = [name for name, filter_ in self.base_filters.items() if isinstance(filter_, BaseCSVFilter)]
        if data is not None and any(len(data.getlist(name)) > 1 for name in lists):
            data = data.copy()
            for name in lists:
                if len(data.getlist(name)) > 1:
                    data.setlist(name, [",".join(data.getlist(name))])
        super().__init__(data, *args, **kwargs)

    def is_valid(self) -> bool:
        for field in self.form.fields.values():
            if isinstance(field, forms.ChoiceField):  # worded as DRF's serializers word it
                field.error_messages["invalid_choice"] = INVALID_CHOICE
        super().is_valid()
        for name, filter_ in self.filters.items():
            if len(self.data.getlist(name)) > 1 and not isinstance(filter_, django_filters.MultipleChoiceFilter):
                self.form.add_error(name, ONCE)
            elif self.data.get(name) == "" and not isinstance(filter_, django_filters.CharFilter):
                self.form.add_error(name, NOT_EMPTY)
        return not self.form.errors
