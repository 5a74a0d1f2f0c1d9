"""Site boilerplate detection: what a publisher appends to articles, never article text.

Two mechanisms, because neither is enough on its own:

1. A block classifier. Each :class:`Rule` recognises one kind of junk (ads, newsletter
   plugs, share bars, disclaimers ...) in German or English. Patterns that could also
   occur in a sentence of real reporting only fire on short blocks (``max_len``), so a
   long paragraph that merely mentions a newsletter or cookies is kept.
2. A tail cut. Sites put their junk after the article, and some of it is impossible to
   recognise by itself (a book advert, a list of other headlines). Once a rule marked
   ``ends_article`` fires after real content, everything below is dropped, unless the
   article clearly continues (several long prose paragraphs no rule recognises:
   a newsletter box in the middle of a story must not take the second half with it).

Pure functions, no I/O. Add a pattern here when a new kind of junk shows up, and a
fixture sentence for it in tests/data/ingest/ so it stays caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.ingest.blocks import Block

_I = re.IGNORECASE

# Social networks named in follow/share lines. A bare "X" is too common a word to count.
_NETWORKS = (
    r"(?:twitter|x\.com|facebook|linkedin|instagram|telegram|whatsapp|mastodon|bluesky|"
    r"threads|youtube|tiktok|xing|reddit|pinterest|flipboard|google news)"
)


@dataclass(frozen=True)
class Rule:
    """One kind of boilerplate: every pattern must match (AND), within ``max_len``."""

    kind: str
    patterns: tuple[re.Pattern[str], ...]
    max_len: int | None = None
    ends_article: bool = False

    def matches(self, text: str) -> bool:
        if self.max_len is not None and len(text) > self.max_len:
            return False
        return all(pattern.search(text) for pattern in self.patterns)


def _rule(kind: str, *patterns: str, max_len: int | None = None, ends: bool = False) -> Rule:
    return Rule(kind, tuple(re.compile(p, _I) for p in patterns), max_len, ends)


RULES: tuple[Rule, ...] = (
    # --- ads, sponsored offers, affiliate links
    _rule(
        "ad",
        r"^\W*(?:anzeige|werbung|advertisement|advertising|ad|sponsored|sponsored content|"
        r"gesponsert|promoted|partner content|partnerinhalt|paid post|"
        r"bezahlte produktplatzierung|paid (?:product )?placement|produktplatzierung)\W*$",
        max_len=60,
    ),
    _rule("ad", r"\((?:sponsored|anzeige|werbung|ad|advertisement)\)", max_len=250, ends=True),
    _rule("ad", r"bezahlte produktplatzierung|paid (?:product )?placement", max_len=250, ends=True),
    _rule(
        "ad",
        # Offer wording only; "5% off its high" or "buy now, pay later" is reporting.
        r"\bbis zu \d+ ?(?:%|prozent) rabatt|\bup to \d+ ?% off|"
        r"\bjetzt (?:kaufen|bestellen|zugreifen|sichern)\s*[!»>→]|\bshop now\s*[!»>→]|"
        r"\bzum (?:angebot|deal|shop)\b|\b(?:deals?|angebote?) des tages\b|"
        r"\bdeals? of the day\b|\btrend-?angebote\b",
        max_len=250,
        ends=True,
    ),
    _rule(
        "ad",
        r"affiliate[- ]?links?|partnerlinks?|provisions?[- ]?links?|"
        r"(?:erhalten|bekommen) wir (?:ggf\.? )?(?:eine )?(?:kleine )?provision|"
        r"we (?:may )?(?:earn|receive) (?:a )?(?:small )?(?:commission|affiliate)",
        max_len=400,
    ),
    # --- newsletter plugs
    _rule(
        "newsletter",
        r"newsletter|frühbrief|morgenbrief|morning briefing|daily briefing",
        r"\b(?:abonnieren|abonniere|abonnier|eintragen|anmelden|registrieren|bestellen)\b|"
        r"\bper e-?mail\b|\b(?:ihr|dein|euer) postfach\b|\bsubscribe|\bsign[- ]?up\b|"
        r"\binbox\b|\b(?:unse?r\w*|our|my|mein\w*)\b.{0,40}(?:newsletter|brief|briefing)",
        max_len=280,
        ends=True,
    ),
    _rule(
        "newsletter",
        r"(?:automatisch|kostenlos|gratis|täglich|wöchentlich|direkt)\s+(?:\w+\s+)?"
        r"per e-?mail (?:erhalten|bekommen)|"
        r"^\W*(?:aktuelle|neue|die neuesten)\b.{0,80}per e-?mail (?:erhalten|bekommen)\W*$",
        max_len=320,
        ends=True,
    ),
    _rule(
        "newsletter",
        r"\b(?:hier|jetzt) (?:kostenlos |gratis )?"
        r"(?:eintragen|anmelden|abonnieren|registrieren)\s*!|"
        r"\b(?:delivered|straight|directly|sent) (?:to|in|into) your inbox\b|"
        r"\b(?:subscribe|sign up) (?:now|here|for free|today)\b",
        max_len=320,
        ends=True,
    ),
    # --- social follow / share
    _rule(
        "social",
        _NETWORKS,
        r"\b(?:folgen sie|folge uns|folgt uns|follow us|follow (?:our|the|@)|teilen sie|"
        r"jetzt teilen|(?:artikel|beitrag) teilen|teilen:|auf \w+ teilen|share (?:this|on|via)|"
        r"share:|like us|besuchen sie uns|find us|finden sie uns|join us|abonnieren sie uns|"
        r"follow\b.{1,60}\b(?:on|at)\b|folgen sie\b.{1,60}\bauf\b)",
        max_len=250,
        ends=True,
    ),
    # A line of nothing but network names and share words ("Facebook | X | E-Mail");
    # "Meta owns Facebook, Instagram and WhatsApp." has other words and is reporting.
    _rule(
        "social",
        rf"^(?:[\W\d_]|\b(?:{_NETWORKS}|x|e-?mail|mail|teilen|share|on|auf|via|und|and|"
        r"oder|or|follow|folgen|uns|us|print|drucken|kopieren|copy|link|artikel|article|this|"
        r"story|diesen)\b)+$",
        rf"(?:\b{_NETWORKS}\b.*){{2}}",
        max_len=200,
        ends=True,
    ),
    _rule(
        "social",
        r"^\W*(?:teilen|jetzt teilen|artikel teilen|beitrag teilen|diesen artikel teilen|"
        r"share|share this(?: article| story| post)?|tweet|pin it|drucken|print|"
        r"merken|save)\W*$",
        max_len=40,
        ends=True,
    ),
    # --- AI and finance disclaimers
    _rule(
        "disclaimer",
        r"^\W*(?:hinweis|wichtiger hinweis|disclaimer|haftungsausschluss|transparenzhinweis|"
        r"offenlegung|risikohinweis|editor'?s note|disclosure)\s*:",
        r"künstliche\w* intelligenz|\bki\b|\bai\b|artificial intelligence|automatisiert|"
        r"finanz|anlage|invest|financial|advice|beratung|haftung|liability|regress",
        max_len=1500,
        ends=True,
    ),
    _rule(
        "disclaimer",
        # Anchored at the start: a standalone note, not "the article was written by AI
        # researchers" in a report.
        r"^\W*(?:[\w ]{1,25}:\s*)?(?:teile |große teile )?"
        r"(?:dieses|dieser|diesen) (?:textes|artikels|beitrags|beitrag|text|artikel)\b.{0,60}"
        r"(?:mithilfe|mit hilfe|unterstützung)\b.{0,40}(?:künstliche\w* intelligenz|\bki\b)|"
        r"^\W*(?:[\w ]{1,25}:\s*)?(?:parts of )?"
        r"(?:this|the) (?:article|text|story|post|content) (?:may have been|was|has been|is) "
        r"(?:partly |partially |in part )?(?:generated|written|produced|created|drafted)\b"
        r".{0,30}\b(?:(?:with the help of|with the assistance of|with|using|mithilfe)\s+"
        r"(?:\w+\s+)?(?:ai|artificial intelligence)\b|by (?:an? )?(?:ai|artificial intelligence)"
        r"\b(?!\s+(?:researchers?|experts?|scientists?|engineers?|compan(?:y|ies)|firms?|labs?|"
        r"start-?ups?|developers?)))",
        max_len=1500,
        ends=True,
    ),
    _rule(
        "disclaimer",
        r"(?:stellen|stellt|sind|ist) keine\w* (?:finanz|anlage|invest\w*)[- ]?"
        r"(?:beratung|empfehlung)|(?:does|do|is|are) not (?:constitute|represent|intended as) "
        r"(?:\w+ )?(?:financial|investment|legal) advice|not (?:financial|investment) advice",
        r"information|website|webseite|seite|inhalt|content|site|text|artikel|article",
        max_len=1500,
        ends=True,
    ),
    # --- contact the editors / corrections
    _rule(
        "contact",
        r"an (?:die|unsere) redaktion|redaktion@|redaktion\s*[\[(]at[\])]|"
        r"(?:email|e-mail|contact|write to|reach) (?:the |our )?(?:editors|newsroom|"
        r"editorial team|news desk)|\[at\]|\(at\)|\bsend (?:us )?(?:your )?(?:tips|corrections)",
        r"bitte|hinweis|ergänzung|korrektur|fehler|tipp|infos?\b|kontakt|schreib|"
        r"tips?\b|correction|error|feedback|spotted|contact|email|e-mail",
        max_len=800,
        ends=True,
    ),
    # --- links to other articles
    _rule(
        "related",
        r"^\W*(?:zu den |zurück zu den |zur übersicht der |alle )?"
        r"top[- ]?(?:stories|meldungen|news|themen|artikel|nachrichten)\W*$|"
        r"^\W*(?:zurück zur startseite|zur startseite|startseite|weitere (?:news|artikel|"
        r"nachrichten|beiträge|meldungen)(?: zum thema)?|mehr zum thema|mehr aus (?:dem )?"
        r"ressort|das könnte (?:sie|dich) auch interessieren|ähnliche (?:artikel|beiträge)|"
        r"verwandte (?:artikel|themen)|auch interessant|beliebte artikel|meistgelesen\w*|"
        r"related(?: articles| stories| posts| coverage| content| reading)?|"
        r"more (?:from|on|stories|news|articles)(?: \w+){0,4}|"
        r"you (?:may|might) also (?:like|be interested in)|recommended(?: for you| stories)?|"
        r"trending(?: now)?|most read|most popular|top stories|back to (?:top|home))\W*$",
        max_len=120,
        ends=True,
    ),
    _rule(
        "related",
        r"^\W*(?:lesen sie (?:auch|mehr|hier)|lies auch|auch lesen|mehr dazu|siehe auch|"
        r"zum weiterlesen|read (?:more|also|next)|also read|see also|more on this|related)"
        r"\s*[:»>→|]",
        max_len=250,
    ),
    _rule(
        "related",
        r"^(?:the post|der beitrag|der artikel) .{1,300} "
        r"(?:appeared first on|erschien zuerst auf|ist zuerst erschienen)",
        max_len=400,
    ),
    _rule(
        "related",
        r"^\W*(?:weiterlesen|mehr lesen|continue reading|read more|read the full (?:story|article)|"
        r"zum (?:vollständigen )?artikel)\W*$",
        max_len=80,
    ),
    # --- previous / next article
    _rule(
        "navigation",
        r"^\W*(?:nächste[rs]?|vorherige[rs]?|vorige[rs]?|ältere[rs]?|neuere[rs]?) "
        r"(?:artikel|beitrag|post|meldung|story)\b|"
        r"^\W*(?:next|previous|prev|older|newer) (?:article|post|story|entry)\b",
        max_len=200,
        ends=True,
    ),
    # --- comment prompts
    _rule(
        "comments",
        r"(?:hast du|du hast|haben sie|sie haben|habt ihr|ihr habt)\b.{0,80}"
        r"(?:beitrag|kommentar|meinung|ergänzung)[^?]{0,120}\?|"
        r"(?:schreib|schreiben sie|hinterlassen sie|hinterlasse|teilen sie) .{0,30}"
        r"(?:kommentar|meinung)|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
        r"what do you think\?|was (?:meinen|denken|halten) sie (?:davon|dazu)\?|"
        r"diskutieren sie mit|diskutiere mit|kommentarfunktion|comments are closed|"
        r"kommentare sind geschlossen|"
        r"^\W*(?:\d+ )?(?:kommentare|comments|leserkommentare)\W*(?:\(\d+\))?\W*$",
        max_len=300,
        ends=True,
    ),
    # --- cookie notices
    _rule(
        "cookies",
        r"(?:wir (?:verwenden|nutzen|setzen)|diese (?:website|webseite|seite) (?:verwendet|nutzt)|"
        r"we use|this (?:site|website) uses)\b.{0,40}\bcookies",
        r"akzeptier|zustimm|einverstanden|einstellung|datenschutz|accept|consent|agree|"
        r"settings|preferences|privacy|experience|erlebnis|verbessern|improve|personalis",
        max_len=500,
    ),
    _rule(
        "cookies",
        r"\balle akzeptieren\b|\bcookies akzeptieren\b|\balle ablehnen\b|"
        r"\baccept (?:all )?cookies\b|\baccept all\b|\breject all\b|"
        r"\bmanage (?:cookies|cookie preferences|preferences)\b|"
        r"^\W*cookie[- ]?(?:einstellungen|settings|richtlinie|policy|hinweis)\W*$",
        max_len=200,
    ),
    # --- paywall teasers
    _rule(
        "paywall",
        r"(?:nur|exklusiv) für (?:abonnenten|abonnentinnen|plus-leser|abonnierende)|"
        r"\bjetzt (?:weiterlesen|abonnieren)\b|(?:weiterlesen|lesen sie weiter) mit|"
        r"subscribe to (?:continue|read)|already a subscriber|bereits abonnent|"
        r"this (?:article|story|content) is (?:for|available to|reserved for) subscribers",
        max_len=300,
        ends=True,
    ),
    # --- captions, credits, copyright lines
    _rule(
        "caption",
        r"^\W*(?:foto|fotos|bild|bilder|bildquelle|quelle|image|images|photo|photos|picture|"
        r"credit|credits|illustration|grafik|abbildung|titelbild|beitragsbild|symbolbild|"
        r"header image|video)\s*:",
        max_len=250,
    ),
    _rule(
        "caption",
        r"\(\s*(?:foto|bild|bildquelle|quelle|image|photo|picture|credit|illustration|grafik|"
        r"symbolbild|source)\s*:[^)]*\)\W*$",
        max_len=300,
    ),
    _rule("caption", r"^\W*(?:getty images|dpa|afp|reuters|imago|shutterstock|istock)\W*$"),
    _rule(
        "footer",
        r"^\W*(?:©|\(c\)|copyright)\s*\d{4}|alle rechte vorbehalten|all rights reserved",
        max_len=200,
        ends=True,
    ),
    # --- bylines, dates and reading times left over from the page header
    # Case-sensitive: a byline is "Von"/"By" followed by capitalised name words.
    Rule(
        "meta",
        (
            re.compile(
                r"^\W*(?:[Vv]on|[Bb]y|VON|BY)\s+[A-ZÄÖÜ][\w.'-]*"
                r"(?:\s+(?:[A-ZÄÖÜ][\w.'-]*|von|van|de|der|und|and|&))*\s*"
                r"(?:[|·•,/–—-]|\bam\b|\bon\b|$)"
            ),
            # ... and either only the name, or a date, time or separator beside it.
            re.compile(
                r"^\W*\S+(?:\s+\S+){0,4}\W*$|\d{4}|\d{1,2}:\d{2}|[Ll]esezeit|min\.? read|"
                r"\b[Uu]hr\b|[|·•]|\b(?:am|on)\s+\d"
            ),
        ),
        max_len=140,
    ),
    _rule(
        "meta",
        r"^\W*(?:\d+\s*min(?:\.|uten)?\s*(?:lesezeit|read|lesen)|lesezeit:?\s*\d+\s*min\w*)\W*$",
        max_len=40,
    ),
    _rule(
        "meta",
        r"^\W*(?:schlagwörter|schlagworte|tags|themen|kategorien?|categories|filed under|"
        r"stichwörter)\s*:",
        max_len=250,
    ),
    _rule(
        "author-bio",
        r"^\W*(?:über den autor|über die autorin|über die autoren|zur person|"
        r"about the author|about the authors)\W*$",
        max_len=60,
        ends=True,
    ),
)

# An article "clearly continues" below an end marker when this many long prose
# paragraphs follow that no rule recognises (see module docstring).
_CONTINUES_AFTER = 3
_PROSE_MIN_LEN = 200
_CONTENT_MIN_LEN = 80
_PROSE_END = re.compile(r"[.!?…\"“”»«'’)]\s*$")


def classify(text: str) -> Rule | None:
    """The first rule that recognises this block text as boilerplate, or None."""
    for rule in RULES:
        if rule.matches(text):
            return rule
    return None


def _comparable(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def repeats_title(text: str, titles: tuple[str, ...]) -> bool:
    """A block that is only the headline again, or the headline plus a photo credit."""
    block = _comparable(text)
    if not block:
        return False
    for title in titles:
        wanted = _comparable(title)
        if len(wanted) < 8:
            continue
        if block == wanted:
            return True
        # "<title> (Foto: ...)" or "<title> | Site": the title plus a short tail
        if block.startswith(wanted) and len(block) - len(wanted) <= 60 and len(text) < 300:
            rest = text[len(title) :] if text.startswith(title) else ""
            if re.match(r"^\s*[(\[|–—-]", rest):
                return True
    return False


def _is_prose(block: Block) -> bool:
    return (
        block.tag in ("p", "blockquote")
        and len(block.text) >= _PROSE_MIN_LEN
        and bool(_PROSE_END.search(block.text))
    )


@dataclass(frozen=True)
class Verdict:
    block: Block
    rule: Rule | None  # None: the block is kept, or was cut as part of the tail
    repeated_title: bool = False

    @property
    def is_boilerplate(self) -> bool:
        return self.rule is not None or self.repeated_title


def remove_boilerplate(blocks: list[Block], *, titles: tuple[str, ...] = ()) -> list[Block]:
    """The article's own blocks: recognised junk removed and the junk tail cut off.

    ``titles`` are spellings of the headline; a block that only repeats one of them
    (an image caption, a "you are reading" line) is dropped.
    """
    verdicts = [Verdict(b, classify(b.text), repeats_title(b.text, titles)) for b in blocks]
    kept: list[Block] = []
    seen_content = False
    for index, verdict in enumerate(verdicts):
        if not verdict.is_boilerplate:
            kept.append(verdict.block)
            seen_content = seen_content or len(verdict.block.text) >= _CONTENT_MIN_LEN
            continue
        rule = verdict.rule
        if rule is not None and rule.ends_article and seen_content:
            rest = verdicts[index + 1 :]
            prose = sum(1 for v in rest if not v.is_boilerplate and _is_prose(v.block))
            if prose < _CONTINUES_AFTER:
                break
    return _drop_dangling_headings(kept)


def _drop_dangling_headings(blocks: list[Block]) -> list[Block]:
    # A heading whose section was all junk ("Mehr zum Thema" above removed links,
    # a box title above a removed plug) would now introduce nothing.
    while blocks and blocks[-1].is_heading:
        blocks = blocks[:-1]
    return [
        block
        for index, block in enumerate(blocks)
        if not (block.is_heading and index + 1 < len(blocks) and blocks[index + 1].is_heading)
    ]
