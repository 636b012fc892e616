"""Test helpers for courses using symdl; also registered as a pytest plugin (pytest11).

``assert_equivalent`` arrives with the hand-derivation checker.
"""
