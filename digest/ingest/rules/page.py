"""Page furniture: adverts, paywall teasers, newsletter and social plugs, cookie notices."""

from __future__ import annotations

from digest.ingest.rules.base import NETWORKS, Rule, rule

ADS: tuple[Rule, ...] = (
    # --- ads, sponsored offers, affiliate links
    rule(
        "ad",
        r"^\W*(?:anzeige|werbung|advertisement|advertising|ad|sponsored|sponsored content|"
        r"gesponsert|promoted|partner content|partnerinhalt|paid post|"
        r"bezahlte produktplatzierung|paid (?:product )?placement|produktplatzierung)\W*$",
        max_len=60,
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
)

PLUGS: tuple[Rule, ...] = (
    # --- newsletter plugs
    rule(
        "newsletter",
        r"newsletter|frühbrief|morgenbrief|morning briefing|daily briefing",
        r"\b(?:abonnieren|abonniere|abonnier|eintragen|anmelden|registrieren|bestellen)\b|"
        r"\bper e-?mail\b|\b(?:ihr|dein|euer) postfach\b|\bsubscribe|\bsign[- ]?up\b|"
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
        r"\b(?:subscribe|sign up) (?:now|here|for free|today)\b",
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
)

PAYWALL: tuple[Rule, ...] = (
    # --- paywall teasers
    rule(
        "paywall",
        r"(?:nur|exklusiv) für (?:abonnenten|abonnentinnen|plus-leser|abonnierende)|"
        r"\bjetzt (?:weiterlesen|abonnieren)\b|(?:weiterlesen|lesen sie weiter) mit|"
        r"subscribe to (?:continue|read)|already a subscriber|bereits abonnent|"
        r"this (?:article|story|content) is (?:for|available to|reserved for) subscribers",
        max_len=300,
        ends=True,
    ),
)
