"""canonical_url: one identity per article, whatever tracking the link carries."""

from __future__ import annotations

import pytest

from digest.errors import IngestError
from digest.ingest.urls import absolute_http_url, canonical_url, is_http_url, strip_tracking


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTPS://WWW.Example.COM/Path/To", "https://www.example.com/Path/To"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a/", "https://example.com/a/"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z&utm_term=t&utm_content=c",
            "https://example.com/a",
        ),
        (
            "https://example.com/a?id=7&fbclid=1&gclid=2&dclid=3&msclkid=4&mc_cid=5&mc_eid=6"
            "&igshid=7&yclid=8&_hsenc=9&_hsmi=10&ref=11&ref_src=12&cmpid=13&wt_mc=14",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?UTM_Source=x&Page=2", "https://example.com/a?Page=2"),
        ("https://example.com/a?q=a%20b", "https://example.com/a?q=a+b"),
        ("https://example.com/a?q=a+b", "https://example.com/a?q=a+b"),
        ("https://example.com/a?flag", "https://example.com/a?flag="),
        ("https://user@example.com/a", "https://user@example.com/a"),
        ("https://[2001:db8::1]:443/a", "https://[2001:db8::1]/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_urls_differing_only_by_tracking_and_fragment_are_the_same_article() -> None:
    variants = [
        "https://news.example/story/42",
        "https://NEWS.example:443/story/42#top",
        "https://news.example/story/42?utm_source=newsletter&utm_medium=email",
        "https://news.example/story/42?fbclid=IwAR0&ref=twitter",
    ]
    assert {canonical_url(url) for url in variants} == {"https://news.example/story/42"}


def test_path_is_kept_exactly() -> None:
    assert canonical_url("https://example.com/A/b/") != canonical_url("https://example.com/a/b")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a",
        "mailto:a@example.com",
        "/relative/path",
        "example.com/a",
        "",
        "https://",
    ],
)
def test_canonical_url_rejects_non_http(url: str) -> None:
    with pytest.raises(IngestError, match="http"):
        canonical_url(url)
    assert not is_http_url(url)


def test_canonical_url_rejects_bad_port() -> None:
    with pytest.raises(IngestError, match="port"):
        canonical_url("https://example.com:99999/a")


def test_strip_tracking_keeps_the_rest_as_given() -> None:
    url = "https://Example.com/a?z=1&utm_source=x&a=2#frag"
    assert strip_tracking(url) == "https://Example.com/a?z=1&a=2"


def test_absolute_http_url() -> None:
    base = "https://example.com/news/a.html"
    assert absolute_http_url("/img/x.jpg", base) == "https://example.com/img/x.jpg"
    assert absolute_http_url("b.html", base) == "https://example.com/news/b.html"
    assert absolute_http_url("javascript:alert(1)", base) is None
    assert absolute_http_url("", base) is None
    assert absolute_http_url("/x", None) is None
