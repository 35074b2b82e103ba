from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from config.filters import require_single_values


class StandardPagination(PageNumberPagination):
    """`count`, `next`, `previous`, `results`; 20 a page unless `page_size` (1 to 100) asks otherwise.
    A `page_size` that is not such a number is a 400, not silently the default."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        require_single_values(request.query_params, [self.page_query_param, self.page_size_query_param])
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            problem = f"Give a whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [problem]})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters
