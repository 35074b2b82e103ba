"""The admin's password sign-in locked after repeated failures (django-axes, set up in
config/settings/base.py): who an attempt counts against, and the page a locked-out attempt gets."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account an attempt counts against, spelt as the database compares it: MariaDB's
    collation matches `Admin@Example.com ` to `admin@example.com`, so each spelling must not get
    its own count of failures."""
    username = credentials.get("username") if credentials is not None else request.POST.get("username")
    return username.strip().lower() if username else None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with the admin's own look, saying for how long signing in is paused (also as
    `Retry-After`). Every attempt during the lockout starts the wait again, so it is always whole."""
    now = timezone.now()
    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        **admin.site.each_context(request),
        "title": "Signing in is paused",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "wait": timeuntil(now + cool_off, now),
    }
    response = render(request, "admin/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
