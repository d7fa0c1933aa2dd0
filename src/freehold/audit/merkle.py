"""RFC 6962 Merkle tree hashing: leaf and node hashes, the tree head, and an incremental frontier.

The frontier lets the audit log keep the root of millions of records in O(log n) memory
and resume from a checkpoint without re-reading the records the checkpoint covers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962: the hash of an empty tree


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (RFC 6962 section 2.1) of these leaf hashes."""
    return _subtree(leaves, 0, len(leaves)) if leaves else EMPTY_ROOT


def _subtree(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return leaves[start]
    split = start + _largest_power_of_two_below(end - start)
    return node_hash(_subtree(leaves, start, split), _subtree(leaves, split, end))


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the perfect subtrees that make up a tree of `size` leaves, largest first.

    There is one per set bit of `size`, so appending is O(log n) and so is the root: it is
    those subtrees folded from the right, which is exactly how RFC 6962 splits the tree.
    """

    def __init__(self) -> None:
        self.size = 0
        self.hashes: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        carries = self.size
        while carries & 1:  # each trailing 1 bit of the old size is a pair of equal subtrees to merge
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            carries >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for subtree in reversed(self.hashes[:-1]):
            result = node_hash(subtree, result)
        return result

    def copy(self) -> Frontier:
        return Frontier.from_hex(self.size, self.to_hex())

    def to_hex(self) -> list[str]:
        return [h.hex() for h in self.hashes]

    @classmethod
    def from_hex(cls, size: int, hashes: Sequence[str]) -> Frontier:
        """Rebuild a frontier; ValueError when the hashes cannot be those of a tree of `size`."""
        if size < 0 or len(hashes) != size.bit_count():
            expected = max(size, 0).bit_count()
            raise ValueError(f"a tree of {size} leaves has {expected} frontier hashes, not {len(hashes)}")
        frontier = cls()
        frontier.size = size
        frontier.hashes = [_hash_from_hex(h) for h in hashes]
        return frontier


def _hash_from_hex(text: str) -> bytes:
    value = bytes.fromhex(text)
    if len(value) != 32:
        raise ValueError(f"not a SHA-256 hash: {text!r}")
    return value
