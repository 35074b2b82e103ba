"""Mounted at /api/api-keys/ (the rest of accounts is under /api/auth/)."""

from rest_framework.routers import SimpleRouter

from accounts.views import ApiKeyViewSet

router = SimpleRouter(trailing_slash=True)
router.register("", ApiKeyViewSet, basename="api-key")

urlpatterns = router.urls
