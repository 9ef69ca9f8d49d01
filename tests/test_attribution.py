"""Attribution decoding: spans from tag probabilities, the "according to" fallback, context speakers."""

import pytest
from claimsift.model.attribution import according_to, decode_spans
from claimsift.model.host import assemble
from claimsift.model.labels import LABELS, TAGS


@pytest.mark.parametrize("text, speaker", [
    ("The sanctions end in March, according to a statement from the US State Department.", "the US State Department"),
    ("According to police, the man fled on foot.", "police"),
    ("The bridge reopens Monday, according to the transport ministry on Friday.", "the transport ministry"),
    ("Turnout fell, according to figures released by the electoral commission.",
     "figures released by the electoral commission"),
])
def test_according_to_names_the_source(text, speaker):
    (s, e), (cs, ce) = according_to(text)
    assert text[s:e] == speaker
    assert text[cs:ce].lower() == "according to"


@pytest.mark.parametrize("text", [
    "The ministry said so, according to a statement released on Friday.",  # the document, not a source
    "Prices rose by 4% in May.",
    "The plan went according to the.",  # nothing but a function word after the cue
])
def test_according_to_declines_when_there_is_no_source(text):
    assert according_to(text) is None


def _onehot(tag: str) -> list[float]:
    return [1.0 if t == tag else 0.0 for t in TAGS]


def test_a_role_of_only_function_words_is_dropped():
    text = "A spokesperson for the ministry said"
    words = [(0, 1), (2, 14), (15, 18), (19, 22), (23, 31), (32, 36)]
    tags = ["B-speaker", "I-speaker", "B-role", "O", "O", "B-cue"]
    spans = decode_spans(text, words, [1] * len(words), [_onehot(t) for t in tags])
    assert text[spans["speaker"][0]:spans["speaker"][1]] == "A spokesperson"
    assert spans["role"] is None
    assert text[spans["cue"][0]:spans["cue"][1]] == "said"


@pytest.mark.parametrize("text, speaker", [
    ("Officials familiar with the draft say it holds.", "Officials familiar with the draft"),
    ("Two diplomats close to the talks said it holds.", "diplomats close to the talks"),
    ("People familiar with it said no.", "People familiar with it"),
])
def test_a_speaker_tagged_from_its_modifier_keeps_its_head_noun(text, speaker):
    cue = text.index(" sa") + 1
    words, tags = [], []
    for w in text[:cue].split():
        start = text.index(w, words[-1][1] if words else 0)
        words.append((start, start + len(w)))
        inside = start >= text.index(speaker.split()[1])  # the tagger missed the head noun
        tags.append(("I-speaker" if tags and tags[-1] != "O" else "B-speaker") if inside else "O")
    words.append((cue, cue + 3))
    tags.append("B-cue")
    spans = decode_spans(text, words, [1] * len(words), [_onehot(t) for t in tags])
    assert text[spans["speaker"][0]:spans["speaker"][1]] == speaker


def test_according_to_beats_carrying_the_previous_speaker():
    sentences = ['"We will not move," said Ann Lee, the mayor.',
                 "The sanctions will end in March, according to a statement from the US State Department."]
    quote = LABELS.index("attributed_quote")
    probs = [0.0] * len(LABELS)
    probs[quote] = 1.0
    lee, said = sentences[0].index("Ann Lee"), sentences[0].index("said")
    rows = [(0, quote, probs, {"speaker": (lee, lee + 7, 0.9), "role": None, "cue": (said, said + 4, 0.9)}, 0.9),
            (1, quote, probs, {"speaker": None, "role": None, "cue": None}, 0.9)]
    results = assemble(sentences, rows)
    first, second = results[0].attribution, results[1].attribution
    assert first.speaker.text == "Ann Lee"
    assert second.speaker.text == "the US State Department" and not second.speaker.from_context
    assert second.cue.text == "according to"
    # The tagger often finds the cue but not the institution after it: the speaker is still named.
    cue = sentences[1].index("according to")
    rows[1] = (1, quote, probs, {"speaker": None, "role": None, "cue": (cue, cue + 12, 0.9)}, 0.9)
    third = assemble(sentences, rows)[1].attribution
    assert third.speaker.text == "the US State Department" and third.cue.start == cue


def _row(k: int, label: str, spans=None):
    probs = [0.1] * len(LABELS)
    probs[LABELS.index(label)] = 0.6
    return (k, LABELS.index(label), probs, spans, 0.9)


def test_a_quote_over_several_sentences_keeps_the_label_of_its_first_sentence():
    sentences = ['Dr. Anya Petrova, an analyst, notes, "The talks are a gamble.',
                 'Washington is betting on a pause."',
                 "The talks resume on Monday."]
    name = sentences[0].index("Dr. Anya Petrova")
    rows = [_row(0, "unverifiable_expert_claim", {"speaker": (name, name + 16, 0.9), "role": None, "cue": None}),
            _row(1, "reported_fact"),
            _row(2, "reported_fact")]
    results = assemble(sentences, rows)
    assert [r.label for r in results] == ["unverifiable_expert_claim", "unverifiable_expert_claim", "reported_fact"]
    assert results[1].attribution.speaker.text == "Dr. Anya Petrova" and results[1].attribution.speaker.from_context
    assert results[1].confidence == 0.1  # the model's own probability for the label given, not its top one


@pytest.mark.parametrize("tags, speaker", [
    (["O", "O", "B-speaker", "I-speaker", "O", "B-cue"], "US State Department"),  # the tagger stopped mid-name
    (["O", "O", "B-speaker", "I-speaker", "I-speaker", "B-cue"], "US State Department"),
])
def test_a_speaker_runs_to_the_end_of_a_capitalised_name(tags, speaker):
    text = "Officials at US State Department said"
    words = [(0, 9), (10, 12), (13, 15), (16, 21), (22, 32), (33, 37)]
    spans = decode_spans(text, words, [1] * len(words), [_onehot(t) for t in tags])
    assert text[spans["speaker"][0]:spans["speaker"][1]] == speaker


def test_a_speaker_does_not_run_over_a_lowercase_word_or_punctuation():
    text = "Ruth Ong, the mayor, said"
    words = [(0, 4), (5, 8), (8, 9), (10, 13), (14, 19), (19, 20), (21, 25)]
    tags = ["B-speaker", "I-speaker", "O", "O", "B-role", "O", "B-cue"]
    spans = decode_spans(text, words, [1] * len(words), [_onehot(t) for t in tags])
    assert text[spans["speaker"][0]:spans["speaker"][1]] == "Ruth Ong"
