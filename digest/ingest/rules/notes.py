"""Notes about the article rather than the article: disclaimers, credits, bylines."""

from __future__ import annotations

import re

from digest.ingest.rules.base import Rule, rule

DISCLAIMERS: tuple[Rule, ...] = (
    # --- AI and finance disclaimers
    rule(
        "disclaimer",
        r"^\W*(?:hinweis|wichtiger hinweis|disclaimer|haftungsausschluss|transparenzhinweis|"
        r"offenlegung|risikohinweis|editor'?s note|disclosure)\s*:",
        r"künstliche\w* intelligenz|\bki\b|\bai\b|artificial intelligence|automatisiert|"
        r"finanz|anlage|invest|financial|advice|beratung|haftung|liability|regress",
        max_len=1500,
        ends=True,
    ),
    rule(
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
    rule(
        "disclaimer",
        r"(?:stellen|stellt|sind|ist) keine\w* (?:finanz|anlage|invest\w*)[- ]?"
        r"(?:beratung|empfehlung)|(?:does|do|is|are) not (?:constitute|represent|intended as) "
        r"(?:\w+ )?(?:financial|investment|legal) advice|not (?:financial|investment) advice",
        r"information|website|webseite|seite|inhalt|content|site|text|artikel|article",
        max_len=1500,
        ends=True,
    ),
    # --- reprint and rights notices, sometimes stored as the whole article
    rule(
        "reprint",
        r"for (?:your )?personal,? non-?commercial use only|this copy is for your personal|"
        r"to order (?:presentation-ready )?copies|reprints? (?:and|&) permissions|"
        r"for non-personal use|distribution and use of this material (?:is|are) governed|"
        r"(?:used|reprinted|republished) (?:here )?with (?:the )?(?:kind )?permission|"
        r"(?:abdruck|veröffentlichung|nachdruck) mit (?:freundlicher )?genehmigung|"
        r"(?:please )?do not (?:copy|redistribute|republish|reproduce)\b|"
        r"may not be (?:copied|reproduced|republished|redistributed|rewritten)|"
        r"nur für den (?:privaten|persönlichen),? nicht[- ]?kommerziellen gebrauch|"
        r"nur zum (?:privaten|persönlichen) gebrauch|nutzungsrechte (?:erwerben|anfragen)|"
        r"(?:vervielfältigung|weiterverbreitung|weitergabe|weiterverwendung|veröffentlichung)"
        r"\w*\b(?:[\w,-]+\s+){0,8}?(?:nur mit (?:vorheriger |ausdrücklicher |schriftlicher )*"
        r"(?:genehmigung|zustimmung|erlaubnis)|nicht gestattet|untersagt|verboten)",
        r"\b(?:this|these|our|the)\s+(?:copy|copies|material|article|content|site)|"
        r"\b(?:dies\w*|unser\w*|der|die|das)\s+(?:inhalt\w*|artikel\w*|beitr\w*|text\w*|"
        r"angebot\w*|seite|website|webseite|material\w*)|reprints?|lizenz|licen[cs]|"
        r"kontakt|contact|@|www\.|https?://|©|copyright|urheber",
        max_len=600,
        ends=True,
    ),
)

CREDITS: tuple[Rule, ...] = (
    # --- captions, credits, copyright lines
    rule(
        "caption",
        r"^\W*(?:foto|fotos|bild|bilder|bildquelle|quelle|image|images|photo|photos|picture|"
        r"credit|credits|illustration|grafik|abbildung|titelbild|beitragsbild|symbolbild|"
        r"header image|video|copyright|fotocredit|bildnachweis|photo credit)\s*:",
        max_len=250,
    ),
    # Gallery controls left in the text: "Alle Bilder anzeigen", "Bild anzeigen Bild schließen".
    rule(
        "caption",
        r"^\W*(?:(?:alle )?(?:bilder|bild|fotos|foto|galerie|gallery|photos?|images?)\s+"
        r"(?:anzeigen|ansehen|schließen|vergrößern|öffnen|view|show|close|open|enlarge)\b\W*){1,3}$",
        max_len=60,
    ),
    rule(
        "caption",
        r"\(\s*(?:foto|bild|bildquelle|quelle|image|photo|picture|credit|illustration|grafik|"
        r"symbolbild|source)\s*:[^)]*\)\W*$",
        max_len=300,
    ),
    rule("caption", r"^\W*(?:getty images|dpa|afp|reuters|imago|shutterstock|istock)\W*$"),
    rule(
        "footer",
        r"^\W*(?:©|\(c\)|copyright)\s*\d{4}|alle rechte vorbehalten|all rights reserved|"
        r"^\W*(?:©|copyright)\W*$",
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
    rule(
        "meta",
        r"^\W*(?:\d+\s*min(?:\.|uten)?\s*(?:lesezeit|read|lesen)|lesezeit:?\s*\d+\s*min\w*)\W*$",
        max_len=40,
    ),
    rule(
        "meta",
        r"^\W*(?:schlagwörter|schlagworte|tags|themen|kategorien?|categories|filed under|"
        r"abgelegt unter|veröffentlicht in|posted in|"
        r"stichwörter)\s*:",
        max_len=250,
    ),
    rule(
        "author-bio",
        r"^\W*(?:über den autor|über die autorin|über die autoren|zur person|"
        r"about the author|about the authors)\W*$",
        max_len=60,
        ends=True,
    ),
)
