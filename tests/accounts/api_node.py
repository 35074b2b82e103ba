"""Another node of the service, for tests: a process of its own with the whole Django stack, on the
test's database and the Redis cache named by API_NODE_REDIS_URL and API_NODE_KEY_PREFIX.

Run as `python -m tests.accounts.api_node`: each line on stdin is a request, as JSON
`{"method", "path", "authorization"}`; each answer is a line on stdout, `{"status", "code"}`.
"""

import json
import os
import sys

import django


def main() -> None:
    django.setup()
    from django.test.utils import override_settings, setup_test_environment
    from rest_framework.test import APIClient

    setup_test_environment()  # the test client's host name is allowed
    cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["API_NODE_REDIS_URL"],
            "KEY_PREFIX": os.environ["API_NODE_KEY_PREFIX"],
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    }
    with override_settings(CACHES=cache, API_KEY_CACHE_SECONDS=5):  # as on Redis by default
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=request["authorization"])
            response = getattr(client, request["method"])(request["path"])
            body = response.json() if response.content else {}
            print(json.dumps({"status": response.status_code, "code": body.get("code")}), flush=True)


if __name__ == "__main__":
    main()
