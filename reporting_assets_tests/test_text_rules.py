"""Names with control characters are refused with the character and its position."""

import sys
import unicodedata

import pytest

from reporting_assets.text_rules import control_character_problem, refuse_control_characters


@pytest.mark.parametrize(
    ("value", "code", "position"),
    [
        ("Evil\nCorp\x1b[2J\x1b[31mRED\x07", "U+000A (LINE FEED)", 5),
        ("Bell\x07", "U+0007 (BELL)", 5),
        ("\x1b[2J", "U+001B (ESCAPE)", 1),
        ("para\u2029graph", "U+2029 (PARAGRAPH SEPARATOR)", 5),
        ("del\x7f", "U+007F (DELETE)", 4),
    ],
)
def test_control_characters_are_named_with_their_position(value: str, code: str, position: int) -> None:
    problem = control_character_problem(value, "display name")
    assert problem is not None
    assert code in problem
    assert f"at position {position}" in problem
    with pytest.raises(ValueError, match="not allowed in names"):
        refuse_control_characters(value, "display name")


@pytest.mark.parametrize("value", ["PELOTON", "Acme / EU, Retail", "Café 🎉 <b>", "O'Brien & Sons"])
def test_printable_names_pass_unchanged(value: str) -> None:
    assert refuse_control_characters(value, "display name") == value


def test_exactly_category_cc_and_the_two_separators_are_refused() -> None:
    refused = {chr(c) for c in range(sys.maxunicode + 1) if control_character_problem(chr(c), "name")}
    expected = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cc"}
    assert refused == expected | {"\u2028", "\u2029"}
