"""URL normalization: one canonical form per article, so re-ingesting never duplicates.

Two links to the same article often differ only in campaign tracking (``utm_*``,
``fbclid`` ...), a fragment, the case of the host or an explicit default port. The
canonical form removes exactly those differences and nothing else: the path is kept as
given (servers may treat ``/a`` and ``/a/`` differently) and the remaining query
parameters are only sorted.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from digest.errors import IngestError

HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say how a reader arrived, never which article it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "cmpid",
        "wt_mc",
        "wt.mc_id",
        "wt_zmc",
        "_ga",
        "_gl",
        "s_cid",
        "icid",
        "ocid",
        "xtor",
        "spm",
        "sr_share",
        "vero_id",
        "oly_anon_id",
        "oly_enc_id",
    }
)
# Whole families: Google (utm_), AT Internet (at_), comScore (ns_), Piwik/Matomo (pk_, mtm_).
TRACKING_PREFIXES = ("utm_", "at_", "ns_", "pk_", "mtm_")


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in HTTP_SCHEMES and bool(parts.hostname)


def is_tracking_param(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _require_http(url: str) -> None:
    if not is_http_url(url):
        raise IngestError(
            f"not an http(s) URL: {url!r}", hint="use an absolute http:// or https:// link"
        )


def strip_tracking(url: str) -> str:
    """The URL without tracking parameters and fragment, otherwise exactly as given.

    This is the link subscribers get: it must not carry someone else's campaign tags,
    but it keeps the publisher's own spelling of the rest.
    """
    _require_http(url)
    parts = urlsplit(url.strip())
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and not is_tracking_param(piece.split("=", 1)[0])
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "&".join(kept), ""))


def canonical_url(url: str) -> str:
    """The identity of an article: lowercase scheme and host, no default port, no
    fragment, no tracking parameters, remaining query parameters sorted; path kept.

    Raises IngestError for anything that is not an absolute http(s) URL.
    """
    _require_http(url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # an IPv6 literal lost its brackets in .hostname
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise IngestError(f"URL has an invalid port: {url!r}") from None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    params = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(key)
    ]
    query = urlencode(sorted(params))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def absolute_http_url(href: str | None, base: str | None) -> str | None:
    """``href`` resolved against ``base`` if the result is an http(s) URL, else None."""
    if not href or not href.strip():
        return None
    joined = urljoin(base, href.strip()) if base else href.strip()
    return joined if is_http_url(joined) else None
