"""The API docs in a real browser on a machine without internet: the pages render the schema and
reach no host but this one. Redoc's bundle still asks for its maker's logo at cdn.redoc.ly: the
page's Content-Security-Policy makes the browser refuse it before anything leaves the machine."""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("path", "rendered"), [("/api/docs/", ".opblock"), ("/api/redoc/", "[data-section-id]")])
def test_the_docs_render_and_request_nothing_from_another_host(page, live_server, path, rendered):
    requested: list[str] = []
    refused: dict[str, str | None] = {}
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: refused.update({request.url: request.failure}))

    page.goto(path)
    page.wait_for_selector(rendered, timeout=30_000)
    page.wait_for_load_state("networkidle")

    ours = urlsplit(live_server.url).netloc
    outside = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours]
    assert requested
    assert {url: refused.get(url) for url in outside} == dict.fromkeys(outside, "csp")  # refused by the browser
    others = [problem for problem in page.problems.seen if not any(url in problem for url in outside)]
    assert [problem for problem in others if "Content Security Policy" not in problem] == []
