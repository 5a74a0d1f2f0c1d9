"""Page furniture: adverts, paywall teasers, newsletter and social plugs, cookie notices."""

from __future__ import annotations

from digest.ingest.rules.base import NETWORKS, Rule, rule

ADS: tuple[Rule, ...] = (
    # --- ads, sponsored offers, affiliate links
    rule(
        "ad",
        r"^\W*(?:anzeige|werbung|advertisement|advertising|ad|sponsored|sponsored content|"
        r"gesponsert|promoted|partner content|partnerinhalt|paid post|"
        r"bezahlte produktplatzierung|paid (?:product )?placement|produktplatzierung|"
        r"anzeigen|kleinanzeigen)\W*$",
        max_len=60,
    ),
    # A disclosure label opening a short block: "Anzeige: Dieser Beitrag entstand in
    # Zusammenarbeit mit ...", "[Werbung] ...", "*Werbung. Dieser Beitrag enthält ...".
    # "Werbung für Zigaretten ist verboten" has no separator and is a sentence.
    rule(
        "ad",
        r"^\W*(?:anzeige|werbung|bezahlte werbung|unbezahlte werbung|advertisement|"
        r"sponsored(?: post| content)?|gesponsert)"
        r"\s*(?:[:|–—\])]|\s-\s|\.\s+(?:dieser|dieses|diese|this)\b)",
        max_len=200,
    ),
    rule("ad", r"\((?:sponsored|anzeige|werbung|ad|advertisement)\)", max_len=250, ends=True),
    rule("ad", r"bezahlte produktplatzierung|paid (?:product )?placement", max_len=250, ends=True),
    rule(
        "ad",
        # Offer wording only; "5% off its high" or "buy now, pay later" is reporting.
        r"\bbis zu \d+ ?(?:%|prozent) rabatt|\bup to \d+ ?% off|"
        r"\bjetzt (?:kaufen|bestellen|zugreifen|sichern)\s*[!»>→]|\bshop now\s*[!»>→]|"
        r"\bzum (?:angebot|deal|shop)\b|\b(?:deals?|angebote?) des tages\b|"
        r"\bdeals? of the day\b|\btrend-?angebote\b",
        max_len=250,
        ends=True,
    ),
    rule(
        "ad",
        r"affiliate[- ]?links?|partnerlinks?|provisions?[- ]?links?|"
        r"(?:erhalten|bekommen) wir (?:ggf\.? )?(?:eine )?(?:kleine )?provision|"
        r"we (?:may )?(?:earn|receive) (?:a )?(?:small )?(?:commission|affiliate)",
        max_len=400,
    ),
    # A label on sponsored content: "Paid partnership with Lumen", "In Kooperation mit X".
    # Only as a line of its own; "failed to label the post as a paid partnership" is news.
    rule(
        "ad",
        r"^\W*(?:paid partnership|bezahlte partnerschaft|werbliche kooperation|"
        r"in kooperation mit|in partnerschaft mit|in partnership with|in association with|"
        r"sponsored by|gesponsert von|präsentiert von|presented by|brought to you by|"
        r"paid content|bezahlter inhalt|advertorial|promotion|werbebeitrag|verlagsbeilage)"
        r"(?:\s*(?:with|mit|von|by)?\s+[\w.&'’ -]{1,40})?\W*$",
        max_len=90,
    ),
    # --- book adverts: "Buchtipp: ...", a title ending in "(Verlag, Taschenbuch)"
    rule(
        "book",
        r"^\W*(?:buchtipp|buch-tipp|buchempfehlung|unser buchtipp|"
        r"literaturtipp|das buch zum thema|zum weiterlesen empfehlen wir|book (?:tip|pick|"
        r"recommendation|of the week)|recommended reading|further reading|our (?:book )?pick)"
        r"\s*[:!–—-]",
        max_len=500,
        ends=True,
    ),
    # Closed right after the bracket: "(Verlag C.H. Beck)." ends a sentence of reporting.
    rule(
        "book",
        r"\([^()]{0,80}\b(?:(?:fach|taschen|sach|hand|koch|kinder|lehr|hör|e-)buch|"
        r"\w*verlag|hardcover|paperback|gebundene ausgabe|broschiert|kindle(?: edition)?|"
        r"e-?book|audiobook|books|publishers?)\b[^()]{0,60}\)\s*$",
        max_len=350,
        ends=True,
    ),
    rule(
        "book",
        r"\b(?:jetzt|hier)\s+(?:\w+\s+){0,3}(?:bestellen|vorbestellen|kaufen)\b|"
        r"\b(?:buy|order|pre-?order)\s+(?:it|the book|your copy|now|here)\b|"
        r"\b(?:erhältlich|available)\s+(?:bei|at|on|from)\s+(?:amazon|thalia|hugendubel|"
        r"bookshop|barnes)",
        r"\b(?:buch|bücher|book|books|taschenbuch|e-?book|hörbuch|kindle|isbn|seiten|pages|"
        r"verlag|publisher|autor\w*|author)\b",
        max_len=400,
        ends=True,
    ),
)

PLUGS: tuple[Rule, ...] = (
    # --- newsletter plugs
    rule(
        "newsletter",
        r"newsletter|frühbrief|morgenbrief|morning briefing|daily briefing|"
        r"(?:daily|weekly) edition",
        r"\b(?:abonnieren|abonniere|abonnier|eintragen|anmelden|registrieren|bestellen)\b|"
        r"\b(?:per|by) e-?mail\b|\b(?:ihr|dein|euer) postfach\b|\bsubscribe|\bsign[- ]?up\b|"
        r"\binbox\b|\b(?:unse?r\w*|our|my|mein\w*)\b.{0,40}(?:newsletter|brief|briefing)",
        max_len=280,
        ends=True,
    ),
    rule(
        "newsletter",
        r"(?:automatisch|kostenlos|gratis|täglich|wöchentlich|direkt)\s+(?:\w+\s+)?"
        r"per e-?mail (?:erhalten|bekommen)|"
        r"^\W*(?:aktuelle|neue|die neuesten)\b.{0,80}per e-?mail (?:erhalten|bekommen)\W*$",
        max_len=320,
        ends=True,
    ),
    rule(
        "newsletter",
        r"\b(?:hier|jetzt) (?:kostenlos |gratis )?"
        r"(?:eintragen|anmelden|abonnieren|registrieren)\s*!|"
        r"\b(?:delivered|straight|directly|sent) (?:to|in|into) your inbox\b|"
        r"\b(?:subscribe|sign up) (?:now|here|for free|today)\b|"
        r"\bzur (?:kostenlosen )?anmeldung geht(?:['’]s| es) hier\b|"
        r"\bhier geht(?:['’]s| es) zur (?:kostenlosen )?anmeldung\b",
        max_len=320,
        ends=True,
    ),
    # --- social follow / share
    rule(
        "social",
        NETWORKS,
        r"\b(?:folgen sie|folge uns|folgt uns|follow us|follow (?:our|the|@)|teilen sie|"
        r"jetzt teilen|(?:artikel|beitrag) teilen|teilen:|auf \w+ teilen|share (?:this|on|via)|"
        r"share:|like us|besuchen sie uns|find us|finden sie uns|join us|abonnieren sie uns|"
        r"follow\b.{1,60}\b(?:on|at)\b|folgen sie\b.{1,60}\bauf\b)",
        max_len=250,
        ends=True,
    ),
    # A line of nothing but network names and share words ("Facebook | X | E-Mail");
    # "Meta owns Facebook, Instagram and WhatsApp." has other words and is reporting.
    rule(
        "social",
        rf"^(?:[\W\d_]|\b(?:{NETWORKS}|x|e-?mail|mail|teilen|share|on|auf|via|und|and|"
        r"oder|or|follow|folgen|uns|us|print|drucken|kopieren|copy|link|artikel|article|this|"
        r"story|diesen)\b)+$",
        rf"(?:\b{NETWORKS}\b.*){{2}}",
        max_len=200,
        ends=True,
    ),
    rule(
        "social",
        r"^\W*(?:teilen|jetzt teilen|artikel teilen|beitrag teilen|diesen artikel teilen|"
        r"share|share this(?: article| story| post)?|tweet|pin it|drucken|print|"
        r"merken|save)\W*$",
        max_len=40,
        ends=True,
    ),
    # A box title: "Newsletter", "PC Gamer Newsletter", "Coaching-Newsletter erhalten".
    rule(
        "newsletter",
        r"^\W*(?:[\w&'’. -]{1,30}[- ])?newsletter(?: erhalten| abonnieren| bestellen)?\W*$",
        max_len=50,
        ends=True,
    ),
    # "Stay connected: Twitter · Telegram · ...", "Bleiben Sie mit uns in Kontakt auf ..."
    # Anchored at the start: "Users want to stay connected on WhatsApp" is a survey result.
    rule(
        "social",
        r"^\W*(?:stay connected|stay in touch|keep in touch|connect with us|get social|"
        r"bleiben sie (?:mit uns )?(?:in kontakt|verbunden|dran)|"
        r"bleib(?:t)? (?:mit uns )?(?:in kontakt|verbunden|dran)|"
        r"vernetzen sie sich(?: mit uns)?|vernetz dich(?: mit uns)?|wir sind auch auf|"
        r"uns gibt(?:'s| es) auch auf|sie finden uns (?:auch )?auf|you can also find us on)"
        r"\s*(?:[:!–—|·-]|with us\b|mit uns\b|on\b|auf\b|via\b|bei\b)",
        NETWORKS,
        max_len=250,
        ends=True,
    ),
    rule(
        "social",
        r"^\W*(?:stay connected|stay in touch|folgen sie uns|folge uns|folgt uns|follow us|"
        r"bleiben sie in kontakt|bleiben sie verbunden|social media|soziale (?:medien|netzwerke))"
        r"\W*$",
        max_len=40,
        ends=True,
    ),
    rule(
        "social",
        r"\b(?:whatsapp|telegram|signal|youtube)[- ]?(?:kanal|channel|gruppe|group|community)\b",
        r"\b(?:abonnier\w*|folg\w*|tritt|treten|beitreten|join|subscribe|follow|jetzt)\b",
        max_len=250,
        ends=True,
    ),
)

COOKIES: tuple[Rule, ...] = (
    # --- cookie notices
    rule(
        "cookies",
        r"(?:wir (?:verwenden|nutzen|setzen)|diese (?:website|webseite|seite) (?:verwendet|nutzt)|"
        r"we use|this (?:site|website) uses)\b.{0,40}\bcookies",
        r"akzeptier|zustimm|einverstanden|einstellung|datenschutz|accept|consent|agree|"
        r"settings|preferences|privacy|experience|erlebnis|verbessern|improve|personalis",
        max_len=500,
    ),
    rule(
        "cookies",
        r"\balle akzeptieren\b|\bcookies akzeptieren\b|\balle ablehnen\b|"
        r"\baccept (?:all )?cookies\b|\baccept all\b|\breject all\b|"
        r"\bmanage (?:cookies|cookie preferences|preferences)\b|"
        r"^\W*cookie[- ]?(?:einstellungen|settings|richtlinie|policy|hinweis)\W*$",
        max_len=200,
    ),
    # The placeholder of an embed the reader did not consent to.
    rule(
        "cookies",
        r"(?:haben sie|hast du) (?:uns )?(?:hierfür|dafür) keine (?:zustimmung|einwilligung)|"
        r"stimmen sie bitte .{1,60} zu\b|you (?:have not|haven't) (?:given|provided) "
        r"(?:your )?consent|to (?:view|see|display) this content,? (?:please )?"
        r"(?:accept|enable|allow)|um (?:diesen|den|externen) inhalt\w* (?:zu sehen|anzuzeigen)",
        max_len=400,
    ),
)

PAYWALL: tuple[Rule, ...] = (
    # --- paywall teasers
    rule(
        "paywall",
        r"(?:nur|exklusiv) für (?:abonnenten|abonnentinnen|plus-leser|abonnierende)|"
        r"\bjetzt (?:weiterlesen|abonnieren)\b|(?:weiterlesen|lesen sie weiter) mit|"
        r"subscribe to (?:continue|read)|already a subscriber|bereits abonnent|"
        r"this (?:article|story|content) is (?:for|available to|reserved for) subscribers|"
        r"to (?:view|read|see|continue reading) the (?:full|whole|rest of the) (?:story|article)"
        r",? (?:please )?(?:subscribe|log in|sign in)",
        max_len=300,
        ends=True,
    ),
    rule("paywall", r"^\W*(?:jetzt )?mit [\w+ -]{1,20} weiterlesen\W*$", max_len=60, ends=True),
)
