"""Names that newsrooms give the same topic, in German and English.

Real feeds label their items with their own section names ("Robotics",
"Netzwelt", "Wirtschaft", "Tech > AI"), never with ours. Each group below
holds names of one topic; a configured topic (``newsletter.topics``) whose
name is in a group is also reached by every other name in it, so an English
feed's "Robotics" joins the German topic "Robotik". Names are compared by
:func:`digest.rank.topics.topic_key` (case, accents, hyphens, spaces and a
plural -s do not matter), so "Start-ups", "startups" and "Startup" are one.

Keep the groups narrow: two topics a newsletter may well keep apart (science
and health, politics and economy) are separate groups. Publishers add their
own names with ``topics.aliases``; ``topics.builtin_aliases: false`` turns
these off.
"""

from __future__ import annotations

from typing import Final

TOPIC_GROUPS: Final[tuple[tuple[str, ...], ...]] = (
    (
        "KI",
        "AI",
        "A.I.",
        "Künstliche Intelligenz",
        "Artificial Intelligence",
        "Machine Learning",
        "Maschinelles Lernen",
        "Generative AI",
        "Generative KI",
        "GenAI",
    ),
    ("Robotik", "Robotics", "Roboter", "Robots", "Robot"),
    ("Chips", "Chip", "Halbleiter", "Semiconductors", "Semiconductor", "Prozessoren", "Processors"),
    ("Politik", "Politics", "Policy", "Netzpolitik", "Tech Policy"),
    ("Forschung", "Research", "Wissenschaft", "Science", "Wissen"),
    ("Start-ups", "Startups", "Start-up", "Gründer", "Founders", "Venture Capital"),
    (
        "Sicherheit",
        "Security",
        "IT-Sicherheit",
        "Cybersecurity",
        "Cyber Security",
        "Cybersicherheit",
        "Infosec",
    ),
    (
        "Mobilität",
        "Mobility",
        "Verkehr",
        "Transport",
        "Transportation",
        "E-Mobilität",
        "Elektromobilität",
        "Automotive",
    ),
    ("Wirtschaft", "Economy", "Business", "Ökonomie", "Unternehmen", "Companies"),
    ("Finanzen", "Finance", "Geld", "Money", "Börse", "Markets", "Märkte"),
    ("Technik", "Technologie", "Technology", "Tech", "Digital", "Netzwelt", "IT"),
    ("Klima", "Climate", "Umwelt", "Environment", "Klimawandel", "Climate Change"),
    ("Gesundheit", "Health", "Medizin", "Medicine"),
    ("Sport", "Sports", "Sportnachrichten"),
    ("Kultur", "Culture", "Arts", "Feuilleton"),
    ("Gesellschaft", "Society", "Panorama"),
    ("Ausland", "World", "International", "Welt"),
    ("Inland", "Deutschland", "National", "Domestic"),
    ("Meinung", "Opinion", "Kommentar", "Commentary", "Analysis", "Analyse"),
    ("Spiele", "Games", "Gaming", "Videospiele", "Video Games"),
    ("Energie", "Energy"),
    ("Raumfahrt", "Space", "Weltraum"),
    ("Datenschutz", "Privacy", "Data Protection"),
    ("Software", "Apps"),
    ("Hardware", "Gadgets"),
    ("Telekommunikation", "Telecom", "Telecommunications", "Mobilfunk"),
)
