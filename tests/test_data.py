import json
from collections import Counter

import pytest
from claimsift.data.authoring import FormatError, document_text, parse_text
from claimsift.data.corpus import corpus_split, load_corpus, load_records
from claimsift.data.samples import SampleError, read_samples
from claimsift.data.validate import check_records, resolve_pronoun_speakers
from claimsift.model.labels import LABELS

DOC = """=== DOC t-001
beat: politics
style: wire
variant: uk

NONE | Council backs bridge plan

FACT | The council approved £4.2m on Tuesday.
QUOTE | 'We fixed it,' said Mayor Ruth Ong. | speaker=Ruth Ong | role=Mayor | cue=said | named=yes
QUOTE | 'It took years,' she added. | speaker=she | cue=added | named=yes | ctx=yes
EXPERT | The plan is seen as a concession. | cue=is seen as | named=no | rules=9
"""


def test_authoring_format_computes_offsets_and_paragraphs():
    recs = parse_text(DOC)
    assert [r["label"] for r in recs] == ["no_claim", "reported_fact", "attributed_quote", "attributed_quote",
                                         "unverifiable_expert_claim"]
    quote = recs[2]
    assert quote["text"][slice(*quote["spans"]["speaker"])] == "Ruth Ong"
    assert quote["text"][slice(*quote["spans"]["role"])] == "Mayor"
    assert recs[4]["rules"] == [9] and recs[4]["speaker"] is None
    assert document_text(recs).split("\n\n")[0] == "Council backs bridge plan"


def test_pronoun_speakers_resolve_to_the_last_named_speaker():
    recs = resolve_pronoun_speakers(parse_text(DOC))
    assert recs[3]["speaker"] == "Ruth Ong" and recs[3]["speaker_in_context"] is True


@pytest.mark.parametrize("bad, message", [
    ("QUOTE | He said so. | cue=said | named=yes", "QUOTE needs speaker"),
    ("FACT | Rain fell. | speaker=Rain", "take no attribution"),
    ("EXPERT | Analysts agree. | speaker=Economists | named=no", "not a substring"),
    ("WRONG | Text.", "unknown tag"),
])
def test_authoring_errors_name_the_line_and_problem(bad, message):
    with pytest.raises(FormatError, match=message):
        parse_text(DOC + bad + "\n", "x.txt")


def test_minimal_eight_field_samples_are_completed(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(json.dumps({"doc": "d", "i": 0, "text": "Analysts say it may fail.", "label":
                             "unverifiable_expert_claim", "speaker": "Analysts", "role": None, "cue": "say",
                             "named": False}) + "\n")
    rec = read_samples(p)[0]
    assert rec["spans"] == {"speaker": [0, 8], "role": None, "cue": [9, 12]}


def test_bad_sample_lines_name_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"doc": "d", "i": 0, "text": "x", "label": "opinion"}\n')
    with pytest.raises(SampleError, match=r"bad.jsonl:1: unknown label 'opinion'"):
        read_samples(p)


def test_validator_catches_split_leaks_and_bad_spans():
    base = {"doc": "a-001", "i": 0, "text": "Ann said so.", "label": "attributed_quote", "speaker": "Ann",
            "named": True, "spans": {"speaker": [0, 4], "role": None, "cue": None}, "split": "nowhere"}
    problems = check_records([base])
    assert any("does not match" in p for p in problems)
    assert any("not the fixed split" in p for p in problems)


# The committed corpus: the counts promised in the datasheet hold.
def test_committed_corpus_is_valid_and_meets_its_counts():
    records = load_records()
    assert check_records(records) == []
    docs = {r["doc"] for r in records}
    labels = Counter(r["label"] for r in records)
    assert len(docs) >= 300 and len(records) >= 6000
    assert all(labels[lab] / len(records) >= 0.10 for lab in LABELS)
    assert labels["unverifiable_expert_claim"] >= 900
    hard = [r for r in records if r["split"] == "hard"]
    assert len(hard) >= 400 and all(any(r.get("rules") for r in hard if r["doc"] == d)
                                    for d in {r["doc"] for r in hard})
    by_split = {}
    for r in records:
        by_split.setdefault(r["doc"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_split.values())
    assert all(corpus_split(d) == next(iter(s)) for d, s in by_split.items())


def test_loader_returns_a_datasetdict_with_fixed_splits():
    ds = load_corpus()
    assert set(ds) == {"train", "dev", "test", "hard"}
    assert ds["train"].num_rows > ds["dev"].num_rows > 0
    assert {"text", "label", "speaker_start", "cue_end"} <= set(ds["train"].column_names)


def test_committed_corpus_file_is_the_build_of_the_authoring_files():
    from claimsift.data.corpus import CORPUS_FILE, build_corpus

    rebuilt = [json.dumps(r, ensure_ascii=False) for r in resolve_pronoun_speakers(build_corpus())]
    assert rebuilt == CORPUS_FILE.read_text(encoding="utf-8").splitlines()
