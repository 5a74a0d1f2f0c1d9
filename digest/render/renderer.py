"""Render one edition: Jinja2 templates to MJML to HTML, plus text, subject and preheader.

An edition is rendered once, for every subscriber: values that differ per
recipient are placeholder tokens (see :mod:`digest.render.personalize`).
Rendering is a pure function of the settings, the newsletter date and the
items; nothing here reads the clock.
"""

from __future__ import annotations

import re
import textwrap
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

import jinja2
import mjml

import digest
from digest.config import Settings
from digest.errors import RenderError
from digest.render.i18n import format_item_time, format_newsletter_date, translations
from digest.render.personalize import PLACEHOLDERS, defuse

SUBJECT_TEMPLATE: Final = "subject.txt.j2"
PREHEADER_TEMPLATE: Final = "preheader.txt.j2"
TEXT_TEMPLATE: Final = "digest.txt.j2"
HTML_TEMPLATE: Final = "digest.mjml.j2"
TEMPLATES: Final = (SUBJECT_TEMPLATE, PREHEADER_TEMPLATE, TEXT_TEMPLATE, HTML_TEMPLATE)

# Width the plain-text part is wrapped at; long URLs stay whole on their own line.
TEXT_WIDTH: Final = 72
# Subjects and preheaders are cut by the template; this is only a safety net
# against a custom template producing a paragraph.
_ONE_LINE_MAX: Final = 250

# Section keys with a meaning of their own (the ranking uses the same ones);
# any other key is a topic name and is shown as given.
TOP_SECTION: Final = "top"
OTHER_SECTION: Final = "other"
# "Also reported by" shows at most this many links: the line should stay one
# line on a phone, and every link costs bytes towards Gmail's 102 KB clip. The
# ranking lists the best reports first, so the cut keeps those.
ALSO_SHOWN: Final = 3
# Link text for a report without a source: its title, cut to this length.
_ALSO_TITLE_MAX: Final = 40


def _check_web_url(value: str | None, name: str, title: str) -> None:
    # Autoescape stops markup, not a javascript: link; only web URLs get in.
    if value is not None and urlsplit(value.strip()).scheme not in {"http", "https"}:
        raise RenderError(f"{name} of {title!r} is not an http(s) URL: {value!r:.100}")


@dataclass(frozen=True)
class AlsoReported:
    """Another report of an item's story, by another source ("also reported by")."""

    title: str
    url: str
    source: str | None

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> AlsoReported:
        """One entry of ``also_reported_by`` as :meth:`DigestItem.to_snapshot` wrote it."""
        try:
            return cls(title=data["title"], url=data["url"], source=data.get("source"))
        except (KeyError, TypeError, AttributeError):
            raise RenderError(
                f"also_reported_by entry needs a title and a url: {data!r:.200}"
            ) from None


@dataclass(frozen=True)
class DigestItem:
    """One article as it appears in an edition (the frozen snapshot is this, as JSON)."""

    title: str
    url: str
    teaser: str
    source: str | None
    published_at: datetime
    image_url: str | None = None
    image_alt: str | None = None
    author: str | None = None
    # "top", a topic name or "other", as the ranking grouped the edition; None
    # for no sections (then the email shows the top item and "More news").
    section: str | None = None
    # Other reports of the same story, best first.
    also_reported_by: tuple[AlsoReported, ...] = ()

    def __post_init__(self) -> None:
        if self.published_at.tzinfo is None or self.published_at.utcoffset() is None:
            # A naive time would be read in whatever zone the server runs in.
            raise RenderError(f"published_at of {self.title!r} has no time zone")
        _check_web_url(self.url, "url", self.title)
        _check_web_url(self.image_url, "image_url", self.title)
        if self.section is not None and not self.section.strip():
            raise RenderError(f"section of {self.title!r} is blank; use None for no section")
        # A list would make the frozen item unhashable; keep the field a tuple.
        object.__setattr__(self, "also_reported_by", tuple(self.also_reported_by))
        for other in self.also_reported_by:
            _check_web_url(other.url, "also_reported_by url", self.title)

    def to_snapshot(self) -> dict[str, Any]:
        """JSON-safe dict; ``published_at`` as an ISO 8601 string with offset."""
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat()
        data["also_reported_by"] = [asdict(other) for other in self.also_reported_by]
        return data

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> DigestItem:
        """Inverse of :meth:`to_snapshot`; unknown keys (from newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        missing = [f.name for f in fields(cls) if f.name not in values and f.name in _REQUIRED]
        if missing:
            raise RenderError(f"item snapshot lacks {', '.join(missing)}: {dict(data)!r:.200}")
        published = values["published_at"]
        if isinstance(published, str):
            try:
                values["published_at"] = datetime.fromisoformat(published)
            except ValueError:
                raise RenderError(f"item snapshot has a bad published_at: {published!r}") from None
        # Snapshots from before sections and "also reported by" lack both keys.
        values["also_reported_by"] = tuple(
            AlsoReported.from_snapshot(entry) for entry in values.get("also_reported_by") or ()
        )
        return cls(**values)


_REQUIRED: Final = frozenset({"title", "url", "teaser", "source", "published_at"})


@dataclass(frozen=True)
class RenderedEdition:
    """The four parts of an email, still with placeholder tokens until personalized."""

    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class AlsoView:
    """An "also reported by" link as the templates see it, cleaned and defused."""

    title: str
    url: str
    source: str | None
    # The link text: the source, or the shortened title when the source is
    # missing or already named on the line.
    label: str


@dataclass(frozen=True)
class ItemView:
    """An item as the templates see it: cleaned, defused and with a localized time."""

    # 1-based position in ``items`` (the ranking's order).
    position: int
    title: str
    url: str
    teaser: str
    source: str | None
    author: str | None
    time: str
    image_url: str | None
    image_alt: str
    section: str | None
    # At most ALSO_SHOWN links.
    also: list[AlsoView]


@dataclass(frozen=True)
class SectionView:
    """A heading and its items: "top", a topic, or "other"."""

    key: str
    label: str
    items: list[ItemView]


def shipped_templates_dir() -> Path:
    """``digest/templates`` in a wheel, the repository's ``templates/`` in a checkout."""
    package = Path(digest.__file__).resolve().parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Wrap each paragraph of ``text``; never split a word, so URLs stay clickable."""
    paragraphs = text.split("\n")
    return "\n".join(
        textwrap.fill(
            paragraph,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        if paragraph.strip()
        else ""
        for paragraph in paragraphs
    )


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters at a word, ending in "…" when cut.

    Unlike Jinja's ``truncate`` this drops a dangling dash, comma or separator
    before the ellipsis ("unverändert –…" becomes "unverändert…").
    """
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if text[width - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:·–—-") + "…"


def text_on_accent(accent: str) -> str:
    """White or near-black, whichever reads better on the accent colour (WCAG luminance)."""
    channels = [int(accent[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast against white vs. against #1a1d21 (luminance ~0.012): pick the larger.
    return "#ffffff" if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.062) else "#1a1d21"


def _clean(value: str) -> str:
    return defuse(" ".join(value.split()))


def _also_views(item: DigestItem) -> list[AlsoView]:
    """The first ALSO_SHOWN other reports of ``item``, each labelled by its source.

    A report without a source, or whose source was already named (the item's
    own, or an earlier link's), is labelled by its shortened title instead:
    "Also reported by: dpa, dpa" would not tell the reader which is which.
    """
    named = {_clean(item.source).casefold()} if item.source else set()
    views = []
    for other in item.also_reported_by[:ALSO_SHOWN]:
        title = _clean(other.title)
        source = _clean(other.source) if other.source and other.source.strip() else None
        label = shorten(title, _ALSO_TITLE_MAX)
        if source is not None and source.casefold() not in named:
            label = source
            named.add(source.casefold())
        views.append(AlsoView(title, defuse(other.url.strip()), source, label))
    return views


def _one_line(value: str) -> str:
    return " ".join(value.split())[:_ONE_LINE_MAX]


def _tidy_text(value: str) -> str:
    lines = [line.rstrip() for line in value.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


class Renderer:
    """Renders editions for one newsletter (its language, zone and templates).

    Files in ``render.templates_dir`` take precedence over the shipped
    templates, so a publisher may override a single partial. Raises
    :class:`RenderError` for a missing folder, a template error (naming the
    file and line) or MJML that does not compile.

    Templates see: ``newsletter`` (the settings section), ``language``,
    ``accent`` and ``on_accent`` (colours), ``newsletter_date``,
    ``date_label``, ``items`` / ``top`` / ``rest`` (:class:`ItemView`, with
    ``section`` and ``also``, the "also reported by" links as
    :class:`AlsoView`), ``sections`` (:class:`SectionView`: ``key``,
    localized ``label`` and ``items``; "top" first with the label "Top
    story" or "Top stories", then topics under their names as configured,
    "other" last as "More news"; items without a section count as "other",
    and when no item has one, the top item and the rest as "More news"),
    ``daytime`` (morning, day or evening, from the send time),
    ``placeholders`` (see :data:`PLACEHOLDERS`), and in the HTML and text
    parts also the rendered ``subject`` and ``preheader``. Filters:
    ``wrap`` (72 columns, URLs kept whole) and ``shorten(width)``.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._shipped = shipped_templates_dir()
        search: list[Path] = []
        if settings.render.templates_dir is not None:
            custom = settings.path(settings.render.templates_dir)
            if not custom.is_dir():
                raise RenderError(
                    f"templates folder {custom} does not exist",
                    hint="fix render.templates_dir or remove it to use the shipped templates",
                )
            search.append(custom)
        if not self._shipped.is_dir():
            raise RenderError(f"shipped templates are missing: {self._shipped} does not exist")
        search.append(self._shipped)
        self._env = self._environment(search)
        # Load every template now, so a syntax error shows when the app starts,
        # not at six in the morning.
        for name in TEMPLATES:
            self._template(name)

    def _environment(self, search: list[Path]) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(search),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("mjml.j2",),
                disabled_extensions=("txt.j2",),
                default=True,
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
            auto_reload=False,
        )
        # Must match JINJA_EXTRACT_OPTIONS, or the .po msgids would not match.
        env.policies["ext.i18n.trimmed"] = True
        env.install_gettext_translations(  # type: ignore[attr-defined]
            translations(self._settings.newsletter.language), newstyle=True
        )
        env.filters["wrap"] = wrap
        env.filters["shorten"] = shorten
        return env

    def render(self, newsletter_date: date, items: Sequence[DigestItem]) -> RenderedEdition:
        """Render subject, preheader, HTML and text for ``items`` in this order."""
        context = self._context(newsletter_date, items)
        subject = _one_line(self._render(SUBJECT_TEMPLATE, context))
        preheader = _one_line(self._render(PREHEADER_TEMPLATE, context))
        context.update(subject=subject, preheader=preheader)
        text = _tidy_text(self._render(TEXT_TEMPLATE, context))
        html = self._compile(self._render(HTML_TEMPLATE, context))
        return RenderedEdition(subject=subject, preheader=preheader, html=html, text=text)

    def _context(self, newsletter_date: date, items: Sequence[DigestItem]) -> dict[str, Any]:
        newsletter = self._settings.newsletter
        views = [
            ItemView(
                position=index,
                title=_clean(item.title),
                url=defuse(item.url.strip()),
                teaser=_clean(item.teaser),
                source=_clean(item.source) if item.source else None,
                author=_clean(item.author) if item.author else None,
                time=format_item_time(
                    item.published_at, newsletter_date, newsletter.tz, newsletter.language
                ),
                image_url=defuse(item.image_url.strip()) if item.image_url else None,
                image_alt=_clean(item.image_alt or item.title),
                section=item.section,
                also=_also_views(item),
            )
            for index, item in enumerate(items, start=1)
        ]
        send_hour = self._settings.schedule.send_time.hour
        return {
            "newsletter": newsletter,
            "language": newsletter.language,
            "accent": newsletter.accent_color,
            "on_accent": text_on_accent(newsletter.accent_color),
            "newsletter_date": newsletter_date,
            "date_label": format_newsletter_date(newsletter_date, newsletter.language),
            "items": views,
            "top": views[0] if views else None,
            "rest": views[1:],
            "sections": self._sections(views),
            # The greeting follows the configured send time, not the clock.
            "daytime": "morning" if send_hour < 11 else "day" if send_hour < 17 else "evening",
            "placeholders": dict(PLACEHOLDERS),
        }

    def _sections(self, views: list[ItemView]) -> list[SectionView]:
        _ = translations(self._settings.newsletter.language).gettext
        groups: dict[str, list[ItemView]] = {}
        flat = all(view.section is None for view in views)
        for view in views:
            if flat:  # no sections from the ranking: the layout from before there were any
                key = TOP_SECTION if view is views[0] else OTHER_SECTION
            else:
                key = view.section or OTHER_SECTION
            groups.setdefault(key, []).append(view)
        # Two msgids rather than ngettext: "Top story" is a plain msgid already.
        top = _("Top story") if len(groups.get(TOP_SECTION, ())) == 1 else _("Top stories")
        labels = {TOP_SECTION: top, OTHER_SECTION: _("More news")}
        # Topics keep the order they come in (the ranking's); sorted() is stable.
        rank = {TOP_SECTION: 0, OTHER_SECTION: 2}
        return [
            SectionView(key=key, label=labels.get(key) or _clean(key), items=groups[key])
            for key in sorted(groups, key=lambda key: rank.get(key, 1))
        ]

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self._env.get_template(name)
        except jinja2.TemplateNotFound as err:
            raise RenderError(
                f"template {err.name} not found in {self._search_label()}",
                hint="copy it from the shipped templates into render.templates_dir",
            ) from err
        except jinja2.TemplateSyntaxError as err:
            self._raise_syntax(err)

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._template(name)
        try:
            return template.render(context)
        except jinja2.TemplateSyntaxError as err:  # in an included partial
            self._raise_syntax(err)
        except Exception as err:
            where = self._template_frame(err)
            if where is None:
                raise  # not caused by a template: a bug, keep the traceback
            raise RenderError(f"{where}: {type(err).__name__}: {err}") from err

    def _compile(self, source: str) -> str:
        try:
            return mjml.mjml2html(source, disable_comments=True)
        except ValueError as err:
            label = self._label(self._template(HTML_TEMPLATE).filename)
            raise RenderError(f"{label} did not compile to HTML: {err}") from err

    def _raise_syntax(self, err: jinja2.TemplateSyntaxError) -> NoReturn:
        label = self._label(err.filename) if err.filename else (err.name or "template")
        raise RenderError(f"{label} line {err.lineno}: {err.message}") from err

    def _template_frame(self, err: BaseException) -> str | None:
        # Jinja rewrites tracebacks so template code shows as frames of the
        # template file, with template line numbers: the innermost one is where
        # the error is.
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            if frame.filename.endswith(".j2"):
                return f"{self._label(frame.filename)} line {frame.lineno}"
        return None

    def _label(self, filename: str | None) -> str:
        if filename is None:
            return "template"
        path = Path(filename)
        if path.is_relative_to(self._shipped):
            return f"templates/{path.relative_to(self._shipped).as_posix()}"
        return str(path)

    def _search_label(self) -> str:
        loader = self._env.loader
        assert isinstance(loader, jinja2.FileSystemLoader)
        return " or ".join(str(p) for p in loader.searchpath)
