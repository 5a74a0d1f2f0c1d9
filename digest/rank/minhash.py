"""Vectorized MinHash and banded LSH: candidate pairs without comparing all pairs.

Why not datasketch: its ``MinHash.update`` hashes every token with SHA-1 in
Python and builds one object per document, so 100,000 texts of ~60 features
mean 6 million Python-level hash calls, by estimate 10 s or more on this
machine before any LSH work (not measured: the package is not installed here);
the whole ranking must fit in 10 s. Here a batch is one flat array of 64-bit
feature hashes plus per-document offsets, and each permutation is one
multiply-add over that array followed by a segmented minimum
(``np.minimum.reduceat``), so the cost is a few array passes per permutation
whatever the number of documents.

The permutations are the multiply-shift family ``h(x) = (a*x + b) mod 2**64 >> 32``
with odd ``a``, drawn from a seeded generator: the same seed gives the same
signatures in every process.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

# Marks "no feature" in a signature row: an empty document collides with nothing.
EMPTY = np.uint64(2**64 - 1)


def signatures(flat_hashes: U64, doc_index: I64, n_docs: int, *, num_perm: int, seed: int) -> U64:
    """MinHash signatures, one row of ``num_perm`` values per document.

    ``flat_hashes`` are the (stable, 63-bit) feature hashes of all documents,
    grouped by document: ``doc_index`` (ascending) says whose each one is.
    Documents without features get the row ``EMPTY``.
    """
    result = np.full((n_docs, num_perm), EMPTY, dtype=np.uint64)
    if flat_hashes.size == 0:
        return result
    boundary = np.flatnonzero(doc_index[1:] != doc_index[:-1]) + 1
    starts = np.concatenate(([0], boundary))
    owners = doc_index[starts]
    rng = np.random.Generator(np.random.PCG64(seed))
    multipliers = rng.integers(0, 2**62, size=num_perm, dtype=np.uint64) * np.uint64(2)
    multipliers += np.uint64(1)
    offsets = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    shift = np.uint64(32)
    for perm in range(num_perm):
        # uint64 arithmetic wraps modulo 2**64, which is the hash family's modulus.
        hashed = (flat_hashes * multipliers[perm] + offsets[perm]) >> shift
        result[owners, perm] = np.minimum.reduceat(hashed, starts)
    return result


def band_keys(sigs: npt.NDArray[np.uint64], *, bands: int, rows: int) -> U64:
    """One key per document and band (shape ``(n_docs, bands)``); equal keys collide.

    A band's ``rows`` 32-bit values are mixed into one 64-bit key; a document with
    no features gets a key unique to it.
    """
    n_docs = sigs.shape[0]
    if sigs.shape[1] < bands * rows:
        raise ValueError(f"{sigs.shape[1]} permutations cannot fill {bands} bands of {rows} rows")
    keys = np.zeros((n_docs, bands), dtype=np.uint64)
    prime = np.uint64(0x9E3779B97F4A7C15)
    for band in range(bands):
        key = np.full(n_docs, np.uint64(band + 1), dtype=np.uint64)
        for row in range(rows):
            key = (key * prime) ^ sigs[:, band * rows + row]
        keys[:, band] = key
    empty = sigs[:, 0] == EMPTY
    if empty.any():
        # Distinct per document (and per band), so empties never share a bucket.
        ids = np.flatnonzero(empty).astype(np.uint64)
        for band in range(bands):
            keys[empty, band] = ~(ids * np.uint64(bands) + np.uint64(band))
    return keys


def candidate_pairs(keys: U64, *, max_bucket: int) -> I64:
    """Pairs ``(i, j)``, ``i < j``, of documents sharing a key in some band.

    A bucket of up to ``max_bucket`` documents yields all its pairs; a larger one
    (a flood of near-identical texts) yields only a chain through its sorted
    members, enough for union-find to join them if each link verifies, and linear
    instead of quadratic in the bucket size. Returns an ``(n, 2)`` array of
    unique pairs, sorted.
    """
    n_docs, bands = keys.shape
    chunks: list[I64] = []
    doc_ids = np.arange(n_docs, dtype=np.int64)
    for band in range(bands):
        column = keys[:, band]
        order = np.argsort(column, kind="stable")
        sorted_keys = column[order]
        boundary = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
        starts = np.concatenate(([0], boundary))
        ends = np.concatenate((boundary, [n_docs]))
        sizes = ends - starts
        members = doc_ids[order]
        # Chain links (consecutive members) cover every bucket of two or more.
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        if same.size:
            chunks.append(np.stack((members[same], members[same + 1]), axis=1))
        # Small buckets of three or more also get their non-consecutive pairs.
        for size in distinct(sizes[(sizes > 2) & (sizes <= max_bucket)]).tolist():
            # All buckets of one size at once: an (n_buckets, size) matrix of members.
            bucket_starts = starts[sizes == size]
            groups = members[bucket_starts[:, None] + np.arange(size)]
            left, right = np.triu_indices(size, k=2)
            chunks.append(np.stack((groups[:, left].ravel(), groups[:, right].ravel()), axis=1))
    if not chunks:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(chunks), axis=1)
    return unique_pairs(pairs, n_docs)


def distinct(values: I64) -> I64:
    """Sorted distinct values (np.unique's hash-based path is slower on large int arrays)."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def unique_pairs(pairs: I64, n_docs: int) -> I64:
    """Distinct rows of an ``(n, 2)`` array of document indexes, sorted."""
    codes = distinct(pairs[:, 0] * n_docs + pairs[:, 1])
    return np.stack((codes // n_docs, codes % n_docs), axis=1)


class HashTable:
    """A read-only int64 -> int64 map for looking up millions of keys at once.

    Open addressing with linear probing, built and probed with array
    operations: each round settles every key whose slot is free (or holds it),
    and moves the rest one slot on. With the table at most half full nearly all
    keys settle in the first round. ``np.searchsorted`` does the same job with
    twenty dependent memory reads per key, which is what made it the slowest
    step of feature extraction at 100,000 articles.
    """

    _MIX = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: I64, values: I64) -> None:
        bits = max(int(2 * max(keys.size, 1) - 1).bit_length(), 4)
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._keys = np.zeros(1 << bits, dtype=np.int64)
        self._values = np.full(1 << bits, -1, dtype=np.int64)
        self._used = np.zeros(1 << bits, dtype=bool)
        pending = np.arange(keys.size, dtype=np.int64)
        slots = self._slots(keys)
        while pending.size:
            wanted = slots[pending]
            free = ~self._used[wanted]
            # The first claimant of each free slot gets it.
            claim_slots, first = np.unique(wanted[free], return_index=True)
            winners = pending[free][first]
            self._used[claim_slots] = True
            self._keys[claim_slots] = keys[winners]
            self._values[claim_slots] = values[winners]
            settled = np.zeros(keys.size, dtype=bool)
            settled[winners] = True
            pending = pending[~settled[pending]]
            slots[pending] = (slots[pending] + 1) & self._mask

    def _slots(self, keys: I64) -> I64:
        mixed = (keys.view(np.uint64) * self._MIX) >> self._shift
        return mixed.astype(np.int64)

    def get(self, keys: I64) -> I64:
        """The value of each key; every key must be in the table."""
        result = np.empty(keys.size, dtype=np.int64)
        slots = self._slots(keys)
        pending = np.arange(keys.size, dtype=np.int64)
        while pending.size:
            where = slots[pending]
            hit = self._keys[where] == keys[pending]
            result[pending[hit]] = self._values[where[hit]]
            pending = pending[~hit]
            slots[pending] = (slots[pending] + 1) & self._mask
        return result
