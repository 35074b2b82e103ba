from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class CachedUserJWTScheme(SimpleJWTScheme):
    """Documents our JWT authentication as the bearer scheme it is."""

    target_class = "accounts.authentication.CachedUserJWTAuthentication"
