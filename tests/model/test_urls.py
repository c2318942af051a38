"""F15 / SPEC 8: only http and https URLs may be pushed."""

import pytest

from chat_widget.model.urls import InvalidUrlError, validate_push_url

HOSTILE = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "jav\x00ascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "ftp://example.com/file",
    "example.com",
    "//example.com",
    "http:/example.com",
    "http://",
    "https://exa mple.com",
    "https://example.com/\u2028x",
    "",
    "   ",
    "http://" + "a" * 3000 + ".com",
    "mailto:someone@example.com",
    "tel:+4930123",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(InvalidUrlError) as info:
        validate_push_url(url)
    assert str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/a?b=c#d",
        "HTTPS://Example.com/x",
        "  https://x.org  ",
    ],
)
def test_http_and_https_urls_pass_trimmed(url: str) -> None:
    assert validate_push_url(url) == url.strip()
