"""Lines that send the reader elsewhere: contact the editors, other articles, comments."""

from __future__ import annotations

from digest.ingest.rules.base import Rule, rule

LINKS: tuple[Rule, ...] = (
    # --- contact the editors / corrections
    rule(
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
    rule(
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
    rule(
        "related",
        r"^\W*(?:lesen sie (?:auch|mehr|hier)|lies auch|auch lesen|mehr dazu|siehe auch|"
        r"zum weiterlesen|read (?:more|also|next)|also read|see also|more on this|related)"
        r"\s*[:»>→|]",
        max_len=250,
    ),
    rule(
        "related",
        r"^(?:the post|der beitrag|der artikel) .{1,300} "
        r"(?:appeared first on|erschien zuerst auf|ist zuerst erschienen)",
        max_len=400,
    ),
    rule(
        "related",
        r"^\W*(?:weiterlesen|mehr lesen|continue reading|read more|read the full (?:story|article)|"
        r"zum (?:vollständigen )?artikel)\W*$",
        max_len=80,
    ),
    # --- previous / next article
    rule(
        "navigation",
        r"^\W*(?:nächste[rs]?|vorherige[rs]?|vorige[rs]?|ältere[rs]?|neuere[rs]?) "
        r"(?:artikel|beitrag|post|meldung|story)\b|"
        r"^\W*(?:next|previous|prev|older|newer) (?:article|post|story|entry)\b",
        max_len=200,
        ends=True,
    ),
    # --- comment prompts
    rule(
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
)
