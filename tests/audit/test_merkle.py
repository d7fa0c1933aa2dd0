"""RFC 6962 Merkle hashing against the published reference vectors, and the frontier against the tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.audit.merkle import EMPTY_ROOT, Frontier, leaf_hash, node_hash, root

# The reference inputs and tree heads used by certificate-transparency and transparency-dev/merkle
# (testonly/constants.go: LeafInputs, RootHashes, NodeHashes level 0, CompactTrees).
INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # the empty tree
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAF_HASHES = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
]
LEVEL1_2 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"  # leaves 4..5
# The compact range (largest subtree first) after 7 leaves: leaves 0..3, 4..5, 6.
COMPACT_7 = [ROOTS[4], LEVEL1_2, LEAF_HASHES[6]]


def reference_leaves() -> list[bytes]:
    return [leaf_hash(bytes.fromhex(x)) for x in INPUTS]


def test_leaf_hashes_match_the_reference():
    assert [h.hex() for h in reference_leaves()] == LEAF_HASHES


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_matches_the_reference_for_every_size(size):
    assert root(reference_leaves()[:size]).hex() == ROOTS[size]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == root([]) == Frontier().root()


def test_node_hash_prefixes_one():
    left, right = b"\x11" * 32, b"\x22" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_the_frontier_matches_the_reference_roots_and_compact_ranges():
    frontier = Frontier()
    for size, leaf in enumerate(reference_leaves(), 1):
        frontier.append(leaf)
        assert frontier.size == size and frontier.root().hex() == ROOTS[size]
        if size == 7:
            assert frontier.to_hex() == COMPACT_7


@given(st.lists(st.binary(max_size=40), max_size=70))
def test_the_frontier_root_equals_the_tree_root_at_every_size(data):
    leaves = [leaf_hash(d) for d in data]
    frontier = Frontier()
    assert frontier.root() == root([])
    for size, leaf in enumerate(leaves, 1):
        frontier.append(leaf)
        assert frontier.root() == root(leaves[:size])
        assert len(frontier.hashes) == size.bit_count()  # O(log n) memory


@given(st.lists(st.binary(max_size=8), max_size=40), st.lists(st.binary(max_size=8), max_size=10))
def test_a_frontier_saved_and_restored_carries_on_the_same(first, then):
    frontier = Frontier()
    for d in first:
        frontier.append(leaf_hash(d))
    restored = Frontier.from_hex(frontier.size, frontier.to_hex())
    for d in then:
        frontier.append(leaf_hash(d))
        restored.append(leaf_hash(d))
    assert restored.root() == frontier.root() and restored.size == frontier.size


@pytest.mark.parametrize("size, hashes", [(3, [ROOTS[1]]), (1, ["abcd"]), (-1, []), (1, ["zz" * 32])])
def test_a_frontier_that_cannot_be_is_refused(size, hashes):
    with pytest.raises(ValueError):
        Frontier.from_hex(size, hashes)
