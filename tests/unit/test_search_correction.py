"""Typo correction of global search: the spellings one edit away and the pick among candidates."""

from __future__ import annotations

from crm_core.search.engine import _closest, one_edit


def test_one_edit_spellings_put_swaps_first_and_hold_every_kind_of_edit() -> None:
    spellings = one_edit("tain")
    assert spellings[0] == "atin"  # swaps come first: the commonest typo
    for expected in ("tian", "tan", "train", "twin"):
        assert expected in spellings
    assert "tain" not in spellings and len(spellings) == len(set(spellings))
    # E-mail addresses may also have a digit, dot, dash or underscore changed.
    assert "li2@x.cn" in one_edit("li@x.cn") and "li@x.cn" in one_edit("li_@x.cn")
    assert all(ch.isalpha() for v in one_edit("abc") for ch in v)


def test_closest_keeps_the_matching_run_of_a_long_word_and_refuses_far_ones() -> None:
    assert _closest("tainjinshi", ["tianjinshihongdajixieyouxiangongsi"]) == "tianjinshi"
    assert _closest("welington", ["wellingtonia", "wellington"]) == "wellington"
    # Nothing within a third of the word's length in edits: the word stays as typed.
    assert _closest("zzzzzzzz", ["tianjinshi"]) == "zzzzzzzz"
