"""Lines that send the reader elsewhere: contact the editors, other articles, comments."""

from __future__ import annotations

from digest.ingest.rules.base import Rule, rule

# A site in "Also on <site>: ...": one to four capitalised words ("Meridian Business",
# "SPIEGEL+") or a domain ("tagesschau.de"), not a weekday or month ("Also on Tuesday:").
_NOT_SITES = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december|montag|dienstag|"
    r"mittwoch|donnerstag|freitag|samstag|sonntag|januar|februar|märz|mai|juni|juli|"
    r"oktober|dezember|this|that|these|those"
)
_SITE = (
    rf"(?:(?!(?:{_NOT_SITES})\b)(?-i:[A-ZÄÖÜ0-9])[\w.&'’+-]*"
    r"(?:\s+(?-i:[A-ZÄÖÜ0-9])[\w.&'’+-]*){0,3}|"
    r"[\w-]+(?:\.[\w-]+)*\.(?:de|com|net|org|at|ch|uk|eu|fr|io|info|news))"
)

LINKS: tuple[Rule, ...] = (
    # --- contact the editors / corrections
    rule(
        "contact",
        r"an (?:die|unsere) redaktion|redaktion@|redaktion\s*[\[(]at[\])]|"
        r"(?:email|e-mail|contact|write to|reach) (?:the |our )?(?:editors|newsroom|"
        r"editorial team|news desk)|\[at\]|\(at\)|"
        r"\bsend (?:us )?(?:your )?(?:tips|corrections|comments|feedback|criticisms?)",
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
    # --- more ways back to the front page: "Back to top stories", "Alle Top-News im Überblick"
    rule(
        "related",
        r"^\W*(?:(?:hier geht['’]?s |weiter |direkt |zurück )?"
        r"(?:zu den|zur übersicht der|zu allen)\s+|"
        r"alle\s+|mehr\s+|weitere\s+|back to(?: the)?\s+|go to(?: the)?\s+|see all\s+|"
        r"view all\s+|all(?: the)?\s+|more\s+|browse\s+)"
        r"(?:top[- ]?(?:stories|story|meldungen|news|themen|artikel|nachrichten|headlines)|"
        r"schlagzeilen|headlines)"
        r"(?:\s+(?:im überblick|auf einen blick|des tages|von heute|anzeigen|lesen|at a glance|"
        r"of the day|today|here))?\W*$|"
        r"^\W*top[- ]?(?:stories|news|meldungen|themen)\s+(?:im überblick|auf einen blick|"
        r"des tages|at a glance|of the day)\W*$|"
        r"^\W*(?:zurück )?nach oben\W*$|^\W*(?:back|scroll|return) to (?:the )?top\W*$|"
        r"^\W*(?:zum )?seitenanfang\b",
        max_len=120,
        ends=True,
    ),
    # --- corrections: "Spotted a mistake? Let us know at ...", "Fehler entdeckt? Schreiben ..."
    rule(
        "contact",
        r"^\W*(?:(?:have you |did you |if you(?:'ve| have)? )?(?:spotted|found|noticed|seen|see)\s+"
        r"(?:an?\s+)?(?:mistake|error|typo|inaccuracy|factual error)|"
        r"(?:haben sie|hast du|habt ihr)\s+(?:einen\s+)?(?:fehler|tippfehler)\s+"
        r"(?:entdeckt|gefunden|bemerkt)|(?:einen\s+)?(?:fehler|tippfehler)\s+"
        r"(?:entdeckt|gefunden|bemerkt)|ist (?:ihnen|dir|euch) ein fehler aufgefallen)",
        r"\?|let us know|tell us|contact|e-?mail|\bmail|schreib|meld|kontakt|teilen sie|"
        r"lassen sie (?:es )?uns wissen|hinweis",
        max_len=300,
        ends=True,
    ),
    rule(
        "related",
        r"^\W*(?:lesen sie (?:auch|mehr|hier)|lies auch|auch lesen|mehr dazu|siehe auch|"
        r"(?:unser )?lesetipps?|weiterlesen|zum weiterlesen|read (?:more|also|next)|also read|"
        r"see also|more on this|related)"
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
    # "Also on Meridian: Robot taxis reach a third city", "Auch auf Laborfunk: Wie ...",
    # "Read more on The Verge": a pointer to the site's (or a partner's) other stories.
    # The name is capitalised words or a domain; case-sensitive, so "Also on the agenda:"
    # and "Auch auf der Insel: ..." are reporting, and a headline after the colon has no
    # full stop ("Auch auf Sylt wurden Schäden gemeldet." is a sentence).
    rule(
        "related",
        rf"^\W*(?:also (?:on|at|from)|more (?:on|at|from)|read more (?:on|at)|"
        rf"(?:lesen sie )?auch auf|(?:mehr|mehr dazu|lesen sie mehr|weiterlesen) (?:auf|bei))\s+"
        rf"{_SITE}\s*(?:[:»›>→|–—]\s*.*[^.\s]|\W*)\s*$",
        max_len=200,
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
    # "Zum vorherigen/nächsten Artikel", "Up next: ...", "Nächste Seite"
    rule(
        "navigation",
        r"^\W*(?:(?:weiter |zurück )?zu[mr] (?:nächsten|vorherigen|vorigen|letzten)"
        r"(?:\s*/\s*(?:nächsten|vorherigen|vorigen))? (?:artikel|beitrag|post|text|meldung|story)|"
        r"(?:go )?(?:to|on to) the (?:next|previous) (?:article|story|post)|up next|next up|"
        r"nächste seite|vorherige seite|next page|previous page|"
        r"(?:vorschau auf|preview of) (?:den|the) (?:nächsten|next) "
        r"(?:artikel|beitrag|article|post))"
        r"\s*(?:$|[:»›>→|–—-])",
        max_len=200,
        ends=True,
    ),
    # --- comment prompts
    rule(
        "comments",
        r"(?:hast du|du hast|haben sie|sie haben|habt ihr|ihr habt)\b.{0,80}"
        r"(?:beitrag|kommentar|meinung|ergänzung)[^?]{0,120}\?|"
        r"\b(?:schreib\w*|schreiben sie|hinterlassen sie|hinterlasse|teilen sie) .{0,30}"
        r"(?:kommentar|meinung)|verraten sie (?:uns )?(?:gerne? )?in den kommentaren|"
        r"(?:let us|tell us|sound off) in the comments|kommentarspalte|"
        r"(?:freue|freuen) (?:mich|uns) (?:auf|über) (?:deinen|ihren|euren|jeden|eure|deine|ihre)"
        r"\b.{0,40}(?:kommentar|nachricht|feedback|meinung)|"
        r"^\W*kommentare (?:lesen|anzeigen|schreiben)\b.{0,40}$|"
        r"leave a (?:comment|reply)|join the (?:conversation|discussion)|"
        r"\bcomments? below\b|in the comment section (?:of this|below)|"
        r"\b(?:tell|let) (?:me|us) (?:know )?.{0,40}in the comments?\b|"
        r"i'?d love (?:a|your) comment|"
        r"^\W*(?:view|show|load|hide|read) (?:all |the )?comments\W*$|comments powered by|"
        # In quotation marks it is someone's question in the story: “What do you think?”
        r"(?<![“”\"„‚‘’'»«])(?:what do you think|was (?:meinen|denken|halten) sie (?:davon|dazu))"
        r"\?(?![“”\"‘’'»«])|"
        r"diskutieren sie mit|diskutiere mit|kommentarfunktion|comments are closed|"
        r"kommentare sind geschlossen|"
        r"^\W*(?:\d+ )?(?:kommentare|comments|leserkommentare)\W*(?:\(\d+\))?\W*$",
        max_len=300,
        ends=True,
    ),
    # "Was meinen Sie: Reicht das?" as a block of its own, maybe with a call to comment.
    # Not when quoted ("„Was meinen Sie …?“, fragte sie") or followed by more reporting.
    rule(
        "comments",
        r"^[^\w„“”\"»«‚‘’']*(?:was (?:meinen|denken|halten) sie|was (?:meint|denkt|haltet) ihr|"
        r"was (?:meinst|denkst|hältst) du|wie (?:sehen sie|seht ihr|siehst du) das|"
        r"wie (?:finden sie|findet ihr|findest du)|what do you think|"
        r"what(?:'s| is) your (?:take|view|opinion)|tell us what you think|how do you feel)"
        r"\b[^?]{0,200}\?"
        r"(?:\s+[^?]{0,160}(?:kommentar|comment|schreib|write|diskut|discuss|forum|leserbrief|"
        r"let us know|tell us|abstimm|vote|umfrage|poll)[^?]{0,80})?\W*$",
        max_len=300,
        ends=True,
    ),
    rule(
        "comments",
        r"^\W*(?:ihre|deine|eure|your) (?:meinung|opinion|view|thoughts)"
        r"(?: ist gefragt| zählt| interessiert uns| matters| counts)?\W*$",
        max_len=60,
        ends=True,
    ),
)
