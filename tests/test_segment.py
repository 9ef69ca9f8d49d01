import pytest
from claimsift.model.segment import segment
from hypothesis import given, settings
from hypothesis import strategies as st


def texts(text):
    return [s.text for s in segment(text)]


@pytest.mark.parametrize("text, expected", [
    ("Dr. Ruth Ong arrived. She spoke.", ["Dr. Ruth Ong arrived.", "She spoke."]),
    ("Mr Brown met Ms. Lee in the U.S. on Jan. 5 and left.", ["Mr Brown met Ms. Lee in the U.S. on Jan. 5 and left."]),
    ("Prices rose 3.5% to $4.20. Sales fell.", ["Prices rose 3.5% to $4.20.", "Sales fell."]),
    ("J. K. Rowling wrote it. Then she left.", ["J. K. Rowling wrote it.", "Then she left."]),
    ('"We won," he said. "It was hard."', ['"We won," he said.', '"It was hard."']),
    ("“We won. We are happy,” she said.", ["“We won.", "We are happy,” she said."]),
    ("'Why?' she asked. Nobody knew.", ["'Why?' she asked.", "Nobody knew."]),
    ("It cost £38m. That is a record.", ["It cost £38m.", "That is a record."]),
    ("They met in the U.S. The talks failed.", ["They met in the U.S.", "The talks failed."]),
    ("Acme Inc. said it would. Acme Inc. The end.", ["Acme Inc. said it would.", "Acme Inc.", "The end."]),
    ('She said "No." Prices rose.', ['She said "No."', "Prices rose."]),
    ("It was No. 1 for weeks.", ["It was No. 1 for weeks."]),
])
def test_sentence_boundaries(text, expected):
    assert texts(text) == expected


def test_lines_headings_bullets_and_qa_are_their_own_sentences():
    draft = ("Home > World > Europe\n\nMarkets slide as talks stall\nBy Staff Writer | 3 min read\n\n"
             "Key Takeaway: prices fell.\n• First point\n- Second point\n1. Third point\n\n"
             "Q: Will prices rise? A: Nobody knows.\n")
    assert texts(draft) == [
        "Home > World > Europe", "Markets slide as talks stall", "By Staff Writer | 3 min read",
        "Key Takeaway: prices fell.", "• First point", "- Second point", "1. Third point",
        "Q: Will prices rise?", "A: Nobody knows.",
    ]


def test_wrapped_lines_continue_the_sentence():
    assert texts("The minister said the plan\nwould be delayed. Then she left.") == [
        "The minister said the plan\nwould be delayed.", "Then she left."]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_spans_are_ordered_inside_and_only_whitespace_between(text):
    spans = segment(text)
    pos = 0
    for s in spans:
        assert 0 <= pos <= s.start < s.end <= len(text)
        assert text[s.start:s.end] == s.text
        assert text[pos:s.start].strip() == ""
        assert s.text == s.text.strip()
        pos = s.end
    assert text[pos:].strip() == ""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Dr.", "U.S.", "said", "“", "”", "'", '"', "3.5", "Mr", ".", "?", "!", "\n",
                                 "\n\n", "• ", "Q:", "The", "a", "é", "😀", "\u200b", "\u202e", "\r\n", " "]),
                max_size=80))
def test_news_like_token_soup_keeps_the_invariants(tokens):
    text = " ".join(tokens)
    rebuilt, pos = [], 0
    for s in segment(text):
        rebuilt.append(text[pos:s.start])
        rebuilt.append(s.text)
        pos = s.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == text
