"""Attribution decoding: spans from tag probabilities, the "according to" fallback, context speakers."""

import re

import numpy as np
import pytest
from claimsift.model.attribution import (
    _words,
    according_cue,
    according_to,
    cue_after_speaker,
    decode_many,
    decode_spans,
    quote_open_after,
    speaker_by_cue,
)
from claimsift.model.host import assemble
from claimsift.model.labels import LABELS, TAGS
from hypothesis import given, settings
from hypothesis import strategies as st


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


def _tagged(text: str, tagged: list[tuple[str, str]]) -> tuple[list[tuple[int, int]], list[list[float]]]:
    """Token offsets and one-hot tag rows for ``(token, tag)`` pairs found in ``text`` in order."""
    offsets, pos = [], 0
    for token, _ in tagged:
        start = text.index(token, pos)
        offsets.append((start, start + len(token)))
        pos = start + len(token)
    return offsets, [_onehot(tag) for _, tag in tagged]


def _decoded(text: str, tagged: list[tuple[str, str]]) -> dict[str, str | None]:
    offsets, probs = _tagged(text, tagged)
    spans = decode_spans(text, offsets, [1] * len(offsets), probs)
    return {k: text[v[0]:v[1]] if v else None for k, v in spans.items()}


def test_a_full_stop_token_does_not_outvote_the_last_word_of_a_sentence():
    # "said." is one word of two tokens; the full stop is O, and used to halve the cue's vote.
    text = '"Nobody asked us," she said.'
    tagged = [('"', "O"), ("Nobody", "O"), ("asked", "O"), ("us", "O"), (",", "O"), ('"', "O"),
              ("she", "O"), ("said", "B-cue"), (".", "O")]
    assert _decoded(text, tagged)["cue"] == "said"


def test_a_comma_still_separates_two_spans_of_one_kind():
    text = "Dana Whitfield, Cascadia Power's chief, said"
    tagged = [("Dana", "B-speaker"), ("Whitfield", "I-speaker"), (",", "O"), ("Cascadia", "I-speaker"),
              ("Power", "O"), ("'s", "O"), ("chief", "O"), (",", "O"), ("said", "B-cue")]
    offsets, probs = _tagged(text, tagged)
    probs[3] = [0.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.0]  # weaker than the name's run, so that one wins
    probs[3][0] = 0.4
    spans = decode_spans(text, offsets, [1] * len(offsets), probs)
    assert text[spans["speaker"][0]:spans["speaker"][1]] == "Dana Whitfield"


@pytest.mark.parametrize("text, tagged, role", [
    # the tagger stopped one word short of the name, at the end of the sentence
    ("said Karen Whitlock, a software analyst at Oberlin Securities.",
     [("said", "B-cue"), ("Karen", "B-speaker"), ("Whitlock", "I-speaker"), (",", "O"), ("a", "B-role"),
      ("software", "I-role"), ("analyst", "I-role"), ("at", "I-role"), ("Oberlin", "I-role"),
      ("Securities", "O"), (".", "O")],
     "a software analyst at Oberlin Securities"),
    # ...or on a function word
    ("said Margaret Ellery, the cabinet member for culture.",
     [("said", "B-cue"), ("Margaret", "B-speaker"), ("Ellery", "I-speaker"), (",", "O"), ("the", "B-role"),
      ("cabinet", "I-role"), ("member", "I-role"), ("for", "I-role"), ("culture", "O"), (".", "O")],
     "the cabinet member for culture"),
    # an abbreviated title keeps its full stop
    ("Connecticut Gov. Neil Bramford says the road is closed.",
     [("Connecticut", "B-role"), ("Gov", "I-role"), (".", "O"), ("Neil", "B-speaker"), ("Bramford", "I-speaker"),
      ("says", "B-cue"), ("the", "O"), ("road", "O"), ("is", "O"), ("closed", "O"), (".", "O")],
     "Connecticut Gov."),
    # a role never runs on into the speaker's name
    ("Senate Majority Leader Carla Hendricks said no.",
     [("Senate", "B-role"), ("Majority", "I-role"), ("Leader", "I-role"), ("Carla", "B-speaker"),
      ("Hendricks", "I-speaker"), ("said", "B-cue"), ("no", "O"), (".", "O")],
     "Senate Majority Leader"),
])
def test_a_role_ends_where_the_title_or_name_ends(text, tagged, role):
    assert _decoded(text, tagged)["role"] == role


def test_a_beginning_tag_inside_a_name_does_not_split_it():
    text = "according to Oberlin Securities Group."
    tagged = [("according", "B-cue"), ("to", "I-cue"), ("Oberlin", "B-speaker"), ("Securities", "B-speaker"),
              ("Group", "I-speaker"), (".", "O")]
    assert _decoded(text, tagged)["speaker"] == "Oberlin Securities Group"


@pytest.mark.parametrize("text, tagged, speaker", [
    ("According to the researchers, birds flew.",
     [("According", "B-cue"), ("to", "I-cue"), ("the", "O"), ("researchers", "B-speaker"), (",", "O"),
      ("birds", "O"), ("flew", "O"), (".", "O")], "the researchers"),
    ("His publicist said he had died.",
     [("His", "O"), ("publicist", "B-speaker"), ("said", "B-cue"), ("he", "O"), ("had", "O"), ("died", "O"),
      (".", "O")], "His publicist"),
    # names are left as tagged: writers and annotators differ on whether "the" belongs to them
    ("According to the Cyprus Mail, it is long.",
     [("According", "B-cue"), ("to", "I-cue"), ("the", "O"), ("Cyprus", "B-speaker"), ("Mail", "I-speaker"),
      (",", "O"), ("it", "O"), ("is", "O"), ("long", "O"), (".", "O")], "Cyprus Mail"),
])
def test_a_common_noun_speaker_keeps_its_article(text, tagged, speaker):
    assert _decoded(text, tagged)["speaker"] == speaker


def test_a_speaker_carried_into_later_sentences_is_named_in_full():
    sentences = ['"We will not move," said Carrie Lam, the chief executive.',
                 'Lam said the city "will recover."',
                 '"It has done so before."',
                 'The council, which met on Monday, said it backed her.',
                 '"We stand together."']
    quote = "attributed_quote"

    def at(k: int, name: str) -> dict:
        a = sentences[k].index(name)
        return {"speaker": (a, a + len(name), 0.9), "role": None, "cue": None}

    none = dict.fromkeys(("speaker", "role", "cue"))
    rows = [_row(0, quote, at(0, "Carrie Lam")), _row(1, quote, at(1, "Lam")), _row(2, quote, none),
            _row(3, quote, at(3, "The council")), _row(4, quote, none)]
    speakers = [r.attribution.speaker for r in assemble(sentences, rows)]
    assert speakers[1].text == "Lam" and not speakers[1].from_context  # as written in its own sentence
    assert speakers[2].text == "Carrie Lam" and speakers[2].from_context  # carried: the full name
    assert speakers[4].text == "The council" and speakers[4].from_context  # not a one-word name: as it was


@pytest.mark.parametrize("text, cue, speaker", [
    ('"We thank them," said Bolden to the gathered crowd.', "said", "Bolden"),
    ('"It is over," said Prime Minister Jo Lee on Monday.', "said", "Prime Minister Jo Lee"),
    ("The movement claims to pursue land reform.", "claims", "The movement"),
    ("WHO say iodine deficiency is preventable.", "say", "WHO"),
    ("Estimates suggest 8,000 migrants are at sea.", "suggest", "Estimates"),
    # not beside a quotation: the name after the verb is what was said about, not who said it
    ("The complaint, seen by the Ledger, says Tellwright was senior.", "says", None),
    ("On Monday they said talks had stalled.", "said", None),  # a pronoun: left to earlier sentences
    ("This class of submarine is thought to leak.", "is thought to", None),  # not a reporting verb
    ("MST members allegedly blocked the road.", "allegedly", None),
])
def test_speaker_by_cue_takes_the_subject_beside_a_reporting_verb(text, cue, speaker):
    c = text.index(cue)
    found = speaker_by_cue(text, (c, c + len(cue)))
    assert (text[found[0]:found[1]] if found else None) == speaker


def test_a_speaker_the_tagger_missed_is_taken_from_beside_its_cue_and_carried():
    sentences = ['"We thank all the locations," said Bolden to the crowd.', '"It was a hard decision."']
    said = sentences[0].index("said")
    none = dict.fromkeys(("speaker", "role", "cue"))
    rows = [_row(0, "attributed_quote", {**none, "cue": (said, said + 4, 0.9)}), _row(1, "attributed_quote", none)]
    first, second = (r.attribution.speaker for r in assemble(sentences, rows))
    assert first.text == "Bolden" and (first.start, first.end) == (said + 5, said + 11) and not first.from_context
    assert second.text == "Bolden" and second.from_context
    # without a cue nothing is guessed
    rows[0] = _row(0, "attributed_quote", none)
    assert assemble(sentences, rows)[0].attribution.speaker is None


def test_a_partitive_speaker_keeps_its_head():
    text = "One of the children said it was hard."
    tagged = [("One", "O"), ("of", "B-speaker"), ("the", "I-speaker"), ("children", "I-speaker"),
              ("said", "B-cue"), ("it", "O"), ("was", "O"), ("hard", "O"), (".", "O")]
    assert _decoded(text, tagged)["speaker"] == "One of the children"


@pytest.mark.parametrize("text, tagged, has_speaker, cue", [
    ("According to NPR, he won.", "to", True, "According to"),  # cut short
    ("According to NPR, he won.", "According", True, "According to"),
    ("He died at home, according to a statement.", "according to a", True, "according to"),  # ran into the source
    ("According to reports, he won.", "According to reports", False, "According to reports"),  # cue and source
    ("He won, sources said.", "said", True, "said"),  # no "according to": as tagged
])
def test_according_to_is_the_whole_cue(text, tagged, has_speaker, cue):
    c = text.index(tagged)
    a, b = according_cue(text, (c, c + len(tagged)), has_speaker)
    assert text[a:b] == cue


@pytest.mark.parametrize("text, speaker, cue", [
    ("Mitsotakis underlined they keep channels open.", "Mitsotakis", "underlined"),
    ("Sears CEO Alan Lacy, speaking about the deal, promised savings.", "Sears CEO Alan Lacy", "promised"),
    ("Most planners recommend keeping 5% in gold.", "Most planners", "recommend"),
    ("The minister quietly confirmed the cuts.", "The minister", "confirmed"),
    ("Tesco sold its Polish stores.", "Tesco", None),  # an action, not a report
    ("Mitsotakis met the IMF and denounced the deal.", "Mitsotakis", None),  # not right after the speaker
])
def test_cue_after_speaker_finds_the_reporting_verb_next_to_the_speaker(text, speaker, cue):
    found = cue_after_speaker(text, text.index(speaker) + len(speaker))
    assert (text[found[0]:found[1]] if found else None) == cue


def test_assemble_adds_the_cue_the_tagger_missed_and_mends_a_cut_one():
    sentences = ["Mitsotakis underlined they keep channels open.", "He won, according to NPR."]
    none = dict.fromkeys(("speaker", "role", "cue"))
    to = sentences[1].index("to NPR")
    rows = [_row(0, "attributed_quote", {**none, "speaker": (0, 10, 0.9)}),
            _row(1, "attributed_quote", {**none, "speaker": (to + 3, to + 6, 0.9), "cue": (to, to + 2, 0.9)})]
    first, second = (r.attribution for r in assemble(sentences, rows))
    assert first.cue.text == "underlined" and first.cue.start == 11
    assert second.cue.text == "according to" and second.speaker.text == "NPR"


@pytest.mark.parametrize("text, tagged, role", [
    # a title before the name: the capitalised words the tagger left out before it, and the rest of it
    ("Sears CEO Alan Lacy promised savings.",
     [("Sears", "O"), ("CEO", "B-role"), ("Alan", "B-speaker"), ("Lacy", "I-speaker"), ("promised", "B-cue")],
     "Sears CEO"),
    ("Prime Minister Ardern said so.",
     [("Prime", "B-role"), ("Minister", "O"), ("Ardern", "B-speaker"), ("said", "B-cue")], "Prime Minister"),
    ("Environment Canada spokeswoman Sujata Raisinghani told CBC.",
     [("Environment", "B-role"), ("Canada", "O"), ("spokeswoman", "O"), ("Sujata", "B-speaker"),
      ("Raisinghani", "I-speaker"), ("told", "B-cue")], "Environment Canada spokeswoman"),
    # after the name, in apposition, the article belongs to the role
    ("Jeff Rathke, the State Department Spokesperson, said so.",
     [("Jeff", "B-speaker"), ("Rathke", "I-speaker"), (",", "O"), ("the", "O"), ("State", "O"),
      ("Department", "O"), ("Spokesperson", "B-role"), (",", "O"), ("said", "B-cue")],
     "the State Department Spokesperson"),
    # a role starting on a preposition is an affiliation: the word before it is the speaker
    ("Analysts at the King's Fund said so.",
     [("Analysts", "B-speaker"), ("at", "B-role"), ("the", "I-role"), ("King", "I-role"), ("'s", "I-role"),
      ("Fund", "I-role"), ("said", "B-cue")], "at the King's Fund"),
    # a capitalised word between role and speaker is the speaker's first name, not more title
    ("Former Norwich midfielder Craig Bellamy said so.",
     [("Former", "B-role"), ("Norwich", "I-role"), ("midfielder", "I-role"), ("Craig", "O"),
      ("Bellamy", "B-speaker"), ("said", "B-cue")], "Former Norwich midfielder"),
])
def test_a_role_starts_where_its_title_starts(text, tagged, role):
    assert _decoded(text, tagged)["role"] == role


def test_an_unsure_role_is_left_out_under_the_models_threshold():
    text = "Ann Lee, a planner at Acme, said so."
    tagged = [("Ann", "B-speaker"), ("Lee", "I-speaker"), (",", "O"), ("a", "B-role"), ("planner", "I-role"),
              ("at", "I-role"), ("Acme", "I-role"), (",", "O"), ("said", "B-cue")]
    offsets, probs = _tagged(text, tagged)
    for row in probs[3:7]:  # the role's words at 0.55: more role than O, but not sure
        row[:] = [0.45 if t == "O" else 0.55 if t in ("B-role", "I-role") and row[TAGS.index(t)] else 0.0
                  for t in TAGS]
    spans = decode_spans(text, offsets, [1] * len(offsets), probs)
    assert text[spans["role"][0]:spans["role"][1]] == "a planner at Acme"
    unsure = decode_spans(text, offsets, [1] * len(offsets), probs, min_role_score=0.6)
    assert unsure["role"] is None and unsure["speaker"] == spans["speaker"] and unsure["cue"] == spans["cue"]


def test_a_quote_attributed_at_its_end_is_credited_to_that_speaker_throughout():
    sentences = ["Vladimir Putin said he mourned him.",
                 '"For my generation he was a hero.',
                 "He was ruthless.",
                 'He is the author of our troubles," said Ann Lee, a director.']
    putin, lee = sentences[0].index("Vladimir Putin"), sentences[3].index("Ann Lee")
    none = dict.fromkeys(("speaker", "role", "cue"))
    rows = [_row(0, "attributed_quote", {**none, "speaker": (putin, putin + 14, 0.9)}),
            _row(1, "attributed_quote", none), _row(2, "attributed_quote", none),
            _row(3, "attributed_quote", {**none, "speaker": (lee, lee + 7, 0.9)})]
    speakers = [r.attribution.speaker for r in assemble(sentences, rows)]
    assert speakers[0].text == "Vladimir Putin"
    assert [s.text for s in speakers[1:]] == ["Ann Lee"] * 3
    assert speakers[1].from_context and speakers[2].from_context and not speakers[3].from_context
    # a speaker inside the quotation is not its attribution: the quote keeps the earlier speaker
    sentences[3] = 'He is the author of what Ann Lee called our troubles."'
    lee = sentences[3].index("Ann Lee")
    rows[3] = _row(3, "attributed_quote", {**none, "speaker": (lee, lee + 7, 0.9)})
    speakers = [r.attribution.speaker for r in assemble(sentences, rows)]
    assert [s.text for s in speakers[1:3]] == ["Vladimir Putin"] * 2


@pytest.mark.parametrize("text, tagged_speaker, role, speaker", [
    ('When interviewed by the BBC, Day said of Hudson, "Nothing was said.', "Hudson", None, "Day"),
    ('In an interview with magazine The Bark, Day said, "I came back.', "The Bark", None, "Day"),
    ('"It is only as good as its interceptors," says Colonel (retd) Martin Kask, a fellow.', "Martin Kask", None,
     "Colonel (retd) Martin Kask"),
    # beside its verb, past a role: kept
    ("Ann Lee, an analyst at Acme Corp, said the deal was done.", "Ann Lee", "an analyst at Acme Corp", "Ann Lee"),
    ("Acme CEO Jo Lee said the deal was done.", "Jo Lee", "Acme CEO", "Jo Lee"),
])
def test_the_speaker_is_the_name_beside_the_reporting_verb(text, tagged_speaker, role, speaker):
    cue = "says" if " says " in text else "said"
    a, c = text.index(tagged_speaker), text.index(cue)
    spans = {"speaker": (a, a + len(tagged_speaker), 0.9), "cue": (c, c + len(cue), 0.9),
             "role": (text.index(role), text.index(role) + len(role), 0.9) if role else None}
    got = assemble([text], [_row(0, "attributed_quote", spans)])[0].attribution.speaker
    assert got.text == speaker and text[got.start:got.end] == speaker


def test_named_is_the_heads_call_even_where_no_speaker_was_found():
    from claimsift.model.results import verify_note

    sentences = ["On Thursday, retailers Tesco and Salling Group announced a sale.",
                 "Sources close to the talks expect a deal soon."]
    none = dict.fromkeys(("speaker", "role", "cue"))
    quote, expert = _row(0, "attributed_quote", none), _row(1, "unverifiable_expert_claim", none)
    named, anonymous = assemble(sentences, [quote, expert[:4] + (0.1,)])
    assert named.attribution.speaker is None and named.attribution.named  # the head: 0.9
    assert anonymous.attribution.speaker is None and not anonymous.attribution.named
    # an expert claim whose named source was not marked is not sent after an unnamed source
    both = assemble(sentences[1:], [(0, *expert[1:])])[0]
    assert both.attribution.named and "Unnamed" not in both.verify and "names" in both.verify
    assert verify_note(anonymous.label, anonymous.attribution).startswith("Unnamed or vague source (none given)")



@pytest.mark.parametrize("text, tagged, speaker, role", [
    # an office before the name is the role; the speaker is the name (the annotations' convention)
    ("Prime Minister Ardern said the laws would change.",
     [("Prime", "B-role"), ("Minister", "B-speaker"), ("Ardern", "I-speaker"), ("said", "B-cue")], "Ardern",
     "Prime Minister"),
    ("Scientist Rebecca Falconer said the glue held.",
     [("Scientist", "B-speaker"), ("Rebecca", "I-speaker"), ("Falconer", "I-speaker"), ("said", "B-cue")],
     "Rebecca Falconer", None),
    # an honorific stays, and a company named like an office is left whole
    ("Dr. Anya Petrova said so.",
     [("Dr.", "B-speaker"), ("Anya", "I-speaker"), ("Petrova", "I-speaker"), ("said", "B-cue")],
     "Dr. Anya Petrova", None),
    ("General Motors said so.", [("General", "B-speaker"), ("Motors", "I-speaker"), ("said", "B-cue")],
     "General Motors", None),
    # the owner of a statement is its speaker
    ("Cornyn's statement added that Houston lost.", [("Cornyn's", "B-speaker"), ("added", "B-cue")], "Cornyn", None),
    ("Prices rose, according to CNN's projections.",
     [("according", "B-cue"), ("to", "I-cue"), ("CNN's", "B-speaker"), ("projections", "I-speaker")], "CNN", None),
    # a speaker started at a preposition: after "according to", or inside a name
    ("According to wildlife officials, it fled.",
     [("According", "B-cue"), ("to", "B-speaker"), ("wildlife", "I-speaker"), ("officials", "I-speaker")],
     "wildlife officials", None),
    ("According to Notes from Poland (NFP), stores adapted.",
     [("According", "B-cue"), ("to", "I-cue"), ("from", "B-speaker"), ("Poland", "I-speaker"), ("(NFP)", "I-speaker")],
     "Notes from Poland (NFP)", None),
])
def test_speaker_spans_leave_out_offices_possessives_and_prepositions(text, tagged, speaker, role):
    decoded = _decoded(text, tagged)
    assert (decoded["speaker"], decoded["role"]) == (speaker, role)


@pytest.mark.parametrize("text, before, after", [
    ('He praised "new ideas.', False, True),                     # a closing mark lost: still open
    ('"Tom is a visionary," said Ann Lee.', True, False),        # a fresh quote, opened and closed
    ('"I doubt it.', True, True),                                # a new paragraph of the same quote
    ('She said it was "fine."', False, False),
    ('It was, she said, "a gamble" and "a risk".', False, False),
    ("A 6\"2' player.", False, True),                            # no sign either way: toggles
])
def test_a_straight_quotation_mark_faces_the_way_its_neighbours_say(text, before, after):
    assert quote_open_after(text, before) is after


def _mentions(text: str, *names: str) -> dict:
    none = dict.fromkeys(("speaker", "role", "cue"))
    for kind, name in zip(("speaker", "cue")[:len(names)], names, strict=True):
        at = text.index(name)
        none[kind] = (at, at + len(name), 0.9)
    return none


def test_a_lost_closing_mark_does_not_turn_the_rest_of_an_article_into_quotation():
    # The closing mark after "ideas." is missing, as in real copy. Toggling each straight mark
    # left every later quote inside out, so Mr. Clarke's own sentences took the officials' name.
    sentences = ['Officials praised Tom Clarke for "new ideas.',
                 "Mr. Clarke bought a mine.",
                 '"It was a bargain," Mr. Clarke said.',
                 "Mr. Clarke said he began to rethink his goals."]
    rows = [_row(0, "attributed_quote", _mentions(sentences[0], "Officials", "praised")),
            _row(1, "reported_fact"),
            _row(2, "attributed_quote", _mentions(sentences[2], "Mr. Clarke", "said")),
            _row(3, "attributed_quote", _mentions(sentences[3], "Mr. Clarke", "said"))]
    results = assemble(sentences, rows)
    assert [r.attribution.speaker.text for r in results[2:]] == ["Mr. Clarke", "Mr. Clarke"]
    assert not any(r.attribution.speaker.from_context for r in results[2:])


def test_a_quote_opened_after_a_speakers_words_is_a_new_quote():
    # Cornyn's quote runs to a paragraph break without its closing mark (the usual convention);
    # Gregoire's statement opens a new one, and its next paragraph opens with a mark of its own.
    sentences = ['Cornyn\'s statement added, "There is no question Houston should have won.',
                 "Today's announcement is an affront.",
                 'In a statement, Chris Gregoire said, "The Museum of Flight put in a tremendous effort.',
                 "As the home of modern air travel, Seattle was a natural choice.",
                 "I am disappointed that NASA did not choose it.",
                 '"However, the trainer will soon call the museum home.',
                 "The largest of the trainers, it will let visitors climb aboard.",
                 'It will help inspire young people."']
    rows = [_row(0, "attributed_quote", _mentions(sentences[0], "Cornyn", "added")),
            _row(1, "attributed_quote", _mentions(sentences[1])),
            _row(2, "attributed_quote", _mentions(sentences[2], "Chris Gregoire", "said")),
            *(_row(k, "attributed_quote", _mentions(sentences[k])) for k in (3, 4, 5)),
            _row(6, "speculation"), _row(7, "attributed_quote", _mentions(sentences[7]))]
    results = assemble(sentences, rows)
    speakers = [r.attribution.speaker.text for r in results]
    assert speakers[:2] == ["Cornyn", "Cornyn"] and speakers[2:] == ["Chris Gregoire"] * 6
    # Counted from the paragraph that reopened the quote, the trainer sentence is still inside it.
    assert results[6].label == "attributed_quote"


def _walked_words(text, offsets, mask):
    """The per-token walk that ``_words`` replaced (kept as the oracle): tokens widened to their word
    runs, overlapping ones merged; a later token votes only if it holds a letter or digit."""
    runs = [m.span() for m in re.finditer(r"[\w'’.-]+", text)]
    j, words = 0, []
    for t, ((a, b), m) in enumerate(zip(offsets, mask, strict=False)):
        if not m or b <= a:
            continue
        while j < len(runs) and runs[j][1] <= a:
            j += 1
        if j < len(runs) and runs[j][0] <= a:
            a = runs[j][0]
        k = j
        while k < len(runs) and runs[k][1] <= b - 1:
            k += 1
        if k < len(runs) and runs[k][0] <= b - 1:
            b = runs[k][1]
        if words and a < words[-1][1]:
            votes = words[-1][2] + [t] if re.search(r"[^\W_]", text[offsets[t][0]:offsets[t][1]]) else words[-1][2]
            words[-1] = (words[-1][0], max(b, words[-1][1]), votes)
        else:
            words.append((a, b, [t]))
    return words


def _tokenized(data):
    """A sentence cut into tokens in text order, as a tokenizer cuts it: words, word pieces and marks."""
    text = data.draw(st.text(alphabet="ab .,'’-“”é_1", min_size=1, max_size=40))
    offsets, pos = [], 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        end = data.draw(st.integers(pos + 1, min(len(text), pos + 4)))
        offsets.append((pos, end))
        pos = end
    return text, offsets or [(0, 0)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_words_groups_tokens_as_the_walk_they_replaced(data):
    text, offsets = _tokenized(data)
    mask = data.draw(st.lists(st.integers(0, 1), min_size=len(offsets), max_size=len(offsets)))
    kept = [t for t, ((a, b), m) in enumerate(zip(offsets, mask, strict=True)) if m and b > a]
    walked = _walked_words(text, offsets, mask)
    if not kept:
        assert walked == []
        return
    a = np.array([offsets[t][0] for t in kept])
    b = np.array([offsets[t][1] for t in kept])
    start, end, first = _words(text, a, b, np.zeros(len(kept), dtype=np.int64))
    assert list(zip(start.tolist(), end.tolist(), strict=True)) == [(s, e) for s, e, _ in walked]
    heads = [kept[i] for i in np.flatnonzero(first)]
    assert heads == [votes[0] for _, _, votes in walked]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_decoding_many_sentences_at_once_gives_each_its_own_spans(data):
    sentences = [_tokenized(data) for _ in range(data.draw(st.integers(1, 5)))]
    masks = [data.draw(st.lists(st.integers(0, 1), min_size=len(o), max_size=len(o))) for _, o in sentences]
    probs = [np.array(data.draw(st.lists(st.lists(st.floats(0, 1), min_size=len(TAGS), max_size=len(TAGS)),
                                         min_size=len(o), max_size=len(o)))) for _, o in sentences]
    one_by_one = [decode_spans(t, o, m, p, 0.3) for (t, o), m, p in zip(sentences, masks, probs, strict=True)]
    together = decode_many([t for t, _ in sentences], [o for _, o in sentences], masks, probs, 0.3)
    assert together == one_by_one
    assert decode_many([t for t, _ in sentences], [o for _, o in sentences], None, probs, 0.3) == [
        decode_spans(t, o, [1] * len(o), p, 0.3) for (t, o), p in zip(sentences, probs, strict=True)]
