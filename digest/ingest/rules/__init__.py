"""The block classifier's rules, in de and en (see :mod:`digest.ingest.boilerplate`).

The first rule that matches a block decides its kind and whether the article ends
there, so the order below is part of the behaviour.
"""

from digest.ingest.rules.base import NETWORKS, Rule, rule
from digest.ingest.rules.links import LINKS
from digest.ingest.rules.notes import CREDITS, DISCLAIMERS
from digest.ingest.rules.page import ADS, COOKIES, PAYWALL, PLUGS

RULES: tuple[Rule, ...] = (*ADS, *PLUGS, *DISCLAIMERS, *LINKS, *COOKIES, *PAYWALL, *CREDITS)

__all__ = ["NETWORKS", "RULES", "Rule", "rule"]
