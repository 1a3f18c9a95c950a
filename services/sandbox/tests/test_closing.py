"""GitHub's closing keywords in a pull request's body."""

from __future__ import annotations

from rig_sandbox.closing import ClosingReference, closing_references


def test_every_keyword_in_any_case_with_or_without_a_repository():
    body = "Closes #1, FIXES #2 and resolved: #3.\nfix acme/other#4; Resolves #1 again; close #5 closed #6"
    assert closing_references(body) == [
        ClosingReference(1), ClosingReference(2), ClosingReference(3), ClosingReference(4, "acme", "other"),
        ClosingReference(5), ClosingReference(6)]


def test_words_that_only_look_alike_close_nothing():
    assert closing_references("prefixes #1, enclosed #2, closes#3, see #4, fixes issue #5") == []
    assert closing_references(None) == []
