from django.http import JsonResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500"]


def bare(request):
    return JsonResponse({"balance": "0.00"})


urlpatterns = [path("bench/bare/", bare), *project_urlpatterns]
