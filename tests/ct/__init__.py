"""Tests of ctwatch.ct: Merkle proofs, tree head signatures, entry decoding."""
