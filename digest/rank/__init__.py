"""Ranking: which of the window's articles make the edition, in which order."""

from digest.rank.scoring import Candidate, Ranked, RankingParams, rank, recency, select

__all__ = ["Candidate", "Ranked", "RankingParams", "rank", "recency", "select"]
