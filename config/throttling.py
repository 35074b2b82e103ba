"""DRF's throttles with a fixed-window counter.

DRF's own throttles keep a list of every request's timestamp and read and rewrite it whole on
each request. A counter per window costs one atomic increment instead. The price is that a
client can spend two windows' worth around a window boundary, which is fine for abuse control.
During a cache outage the throttle lets requests through rather than failing them.
"""

import ipaddress

from django.http import HttpRequest
from rest_framework import throttling
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str | None:
    """The address per-IP limits count against (the throttles here, the admin's sign-in lockout):
    `X-Forwarded-For` is trusted only as far as the NUM_PROXIES proxies in front appended to it, so
    a client cannot choose its own. Something that is no address (a proxy miscounted) counts as the
    connection's own address instead."""
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # it reads only META
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


class FixedWindowRateThrottle(throttling.SimpleRateThrottle):
    duration: int  # set by SimpleRateThrottle from the rate
    num_requests: int

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window = int(self.timer() // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # first request of the window (or a racing one)
            count = 1 if self.cache.add(key, 1, self.duration) else self.cache.incr(key)
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends_at - self.timer(), 0)


# DRF's classes come first so their own steps run (the scoped one picks its rate from the view),
# then hand over to the counter above instead of DRF's timestamp list.
class UserRateThrottle(throttling.UserRateThrottle, FixedWindowRateThrottle):
    """Per signed-in user; per IP for anonymous requests."""


class AnonRateThrottle(throttling.AnonRateThrottle, FixedWindowRateThrottle):
    """Per IP, for anonymous requests only."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, FixedWindowRateThrottle):
    """Per user (or IP) and `throttle_scope` of the view: uploads, transcriptions, sign-in."""


class ScopedThrottleMixin:
    """The one way a view adds its own limit: `throttle_scope` names the rate (`THROTTLE_RATES`),
    applied to the actions in `throttled_actions` (every request when None), on top of the
    default throttles."""

    throttled_actions: frozenset[str] | None = None

    def get_throttles(self) -> list[BaseThrottle]:
        throttles: list[BaseThrottle] = list(super().get_throttles())  # type: ignore[misc]
        if self.throttled_actions is None or getattr(self, "action", None) in self.throttled_actions:
            throttles.append(ScopedRateThrottle())
        return throttles
