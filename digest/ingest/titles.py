"""Headlines: markup, entities and the junk sites append removed; labels kept.

Pure functions, no I/O.
"""

from __future__ import annotations

import html
import re

from digest.ingest.blocks import html_to_text
from digest.ingest.markup import normalize_space

_MARKUP = re.compile(r"<[A-Za-z/!]")

_TITLE_TAGS = (
    r"original|raw|update(?:[ :][^)\]]{0,30})?|"
    r"aktualisiert(?:[ :][^)\]]{0,30})?|updated(?:[ :][^)\]]{0,30})?|video|videos|podcast|"
    r"audio|live|liveblog|liveticker|ticker|exklusiv|exclusive|"
    r"bildergalerie|fotostrecke|gallery|photos"
)
# Labels that say what an item is, not how it is presented: an advert or a paywalled
# teaser. They are kept, moved to the front as "Anzeige: ..." or "Plus: ...", so that
# ranking.exclude_titles can leave such items out and a pinned one stays labelled.
_AD_TAGS = r"sponsored|anzeige|werbung|ad|advertisement|advertorial|gesponsert|promoted"
_PAYWALL_TAGS = r"plus|premium|paywall|\+"
_LABEL_TAGS = rf"{_AD_TAGS}|{_PAYWALL_TAGS}"
# "(original)", "[Update]", "(Sponsored)" at the end or the start of a title.
_TRAILING_TAG = re.compile(
    rf"\s*[(\[]\s*(?P<tag>{_TITLE_TAGS}|{_LABEL_TAGS})\s*[)\]]\s*$", re.IGNORECASE
)
_LEADING_TAG = re.compile(
    rf"^\s*[(\[]\s*(?P<tag>{_TITLE_TAGS}|{_LABEL_TAGS})\s*[)\]]\s*[:–—-]?\s*", re.IGNORECASE
)
_AD_TAG = re.compile(rf"^(?:{_AD_TAGS})$", re.IGNORECASE)
_PAYWALL_TAG = re.compile(rf"^(?:{_PAYWALL_TAGS})$", re.IGNORECASE)
# " - Video", " | Liveblog": a media-type word after a separator.
_TRAILING_MEDIA = re.compile(
    r"\s+[-–—|:]\s*(?:video|videos|podcast|audio|live|liveblog|liveticker|ticker|"
    r"bildergalerie|fotostrecke|gallery|photos)\s*$",
    re.IGNORECASE,
)
_PAYWALL_MARK = re.compile(r"\s+\+$")
_SITE_SUFFIX = re.compile(r"^(?P<head>.+?)\s+(?P<sep>[|–—-]|::|·)\s+(?P<site>[^|–—]{1,80})$")
_LEFTOVER = re.compile(r"[\s|:–—-]+$")


def _site_key(name: str) -> str:
    key = name.casefold().strip()
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", key)
    key = re.sub(r"\.(?:de|com|net|org|at|ch|eu|io|co\.uk|example)\b.*$", "", key)
    return re.sub(r"[\W_®™]+", "", key)


def _is_site_name(candidate: str, source: str | None) -> bool:
    if not source:
        return False
    have, want = _site_key(candidate), _site_key(source)
    if not have or not want:
        return False
    # "IT-Kurier" vs "IT-Kurier – Magazin für KI": one names the other.
    # Both at least four characters, so "– KI" never counts as the site "KI-Magazin".
    long_enough = min(len(have), len(want)) >= 4
    return have == want or (long_enough and (have.startswith(want) or want.startswith(have)))


def _label(tag: str) -> str | None:
    if _AD_TAG.match(tag):
        return tag[:1].upper() + tag[1:].lower() if tag.islower() or tag.isupper() else tag
    if _PAYWALL_TAG.match(tag):
        return "Plus"
    return None


def clean_title(title: str, *, source: str | None = None) -> str:
    """The headline without markup, entities and appended junk.

    Strips "(original)", "(raw)", "[Update]", "- Video", and a "| Site" or "– Site"
    suffix when it names ``source``. A pipe suffix of at most four words goes too (a
    section or site name), but a dash is kept unless it names the source: "Apple –
    ein Rückblick" is a real headline. An advert or paywall tag ("(Sponsored)",
    "[Anzeige]", a trailing "+") is kept as a leading label: "Sponsored: ...",
    "Plus: ..." (see ranking.exclude_titles). Empty when only junk was left.
    """
    raw = html_to_text(title) if _MARKUP.search(title) else html.unescape(title)
    text = normalize_space(raw)
    label: str | None = None
    while True:
        before = text
        for pattern in (_TRAILING_TAG, _LEADING_TAG):
            match = pattern.search(text)
            if match:
                label = label or _label(match["tag"])
                text = text[: match.start()] + text[match.end() :]
        text = _TRAILING_MEDIA.sub("", text)
        if _PAYWALL_MARK.search(text):
            label = label or "Plus"
            text = _PAYWALL_MARK.sub("", text)
        match = _SITE_SUFFIX.match(text)
        if match:
            site = match["site"].strip()
            short_pipe = match["sep"] in ("|", "::", "·") and len(site.split()) <= 4
            if _is_site_name(site, source) or short_pipe:
                text = match["head"]
        text = _LEFTOVER.sub("", text).strip()
        if text == before:
            break
    if label and text and not re.match(rf"{re.escape(label)}\s*[:|]", text, re.IGNORECASE):
        return f"{label}: {text}"
    return text
