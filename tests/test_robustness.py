"""Fuzzed inputs: segmentation, attribution decoding, file readers and the CLI never crash or lie."""

import json
import time

import pytest
from claimsift.model.attribution import decode_spans
from claimsift.model.labels import TAGS
from claimsift.model.readers import InputError, read_document
from claimsift.model.segment import segment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimsift.cli import main

PATHOLOGICAL = {
    "one sentence": "word " * 200_000,
    "all punctuation": ".!?…;:,'\"“”" * 100_000,
    "all quotes": "\"'“”‘’«»" * 130_000,
    "nested quotes": ("“‘\"'" * 50_000) + ("'\"’”" * 50_000),
    "abbreviations": "Dr. Mr. U.S. Jan. No. " * 50_000,
    "newlines": "\n" * 1_000_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_megabyte_inputs_segment_quickly_and_exactly(name):
    text = PATHOLOGICAL[name]
    start = time.perf_counter()
    spans = segment(text)
    assert time.perf_counter() - start < 20  # linear: ~1 MB in well under a second on a laptop
    pos = 0
    for s in spans:
        assert text[pos:s.start].strip() == "" and text[s.start:s.end] == s.text
        pos = s.end


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_attribution_decoding_never_leaves_the_sentence(data):
    text = data.draw(st.text(min_size=1, max_size=60))
    n = data.draw(st.integers(1, 30))
    offsets = []
    for _ in range(n):
        a = data.draw(st.integers(0, len(text)))
        b = data.draw(st.integers(a, len(text)))
        offsets.append((a, b))
    mask = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    probs = [data.draw(st.lists(st.floats(0, 1), min_size=len(TAGS), max_size=len(TAGS))) for _ in range(n)]
    for span in decode_spans(text, offsets, mask, probs).values():
        if span is not None:
            s, e, _ = span
            assert 0 <= s < e <= len(text)


SUFFIXES = [".txt", ".md", ".html", ".docx", ".jsonl"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_readers_return_documents_or_a_clear_error(tmp_path, raw, suffix):
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(raw)
    try:
        docs = read_document(p)
    except InputError as e:
        assert str(p) in str(e)
    else:
        assert all(d.text.strip() for d in docs)


TRICKY = [
    "\ufeffBOM first. Then text.", "Windows\r\nline ends.\r\n\r\nNew para.", "مرحبا بالعالم. Hello world.",
    "Emoji 😀 ends here. 🚀 Next.", "Zero\u200bwidth\u200b joiners. Here.", "\u202eRight-to-left override.",
    "Mixed: café naïve 北京. Done.", "NUL\x00inside. text.",
]


@pytest.mark.parametrize("text", TRICKY)
def test_cli_survives_awkward_text(tmp_path, tiny_model_dir, text):
    p = tmp_path / "draft.txt"
    p.write_bytes(text.encode("utf-8"))
    out = tmp_path / "o.jsonl"
    code = main(["score", str(p), "--model", str(tiny_model_dir), "--output", str(out), "--allow-non-english"])
    assert code in (0, 1)
    if code == 0:
        for r in map(json.loads, out.read_text().splitlines()):
            assert text[r["start"]:r["end"]] == r["text"] or text.lstrip("\ufeff")[r["start"]:r["end"]] == r["text"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(
    st.text(max_size=40),
    st.builds(lambda t: json.dumps({"id": "x", "text": t}), st.text(max_size=40)),
    st.just('{"id": 1}'), st.just("[1, 2]"), st.just("{broken"),
), max_size=5))
def test_cli_on_fuzzed_jsonl_ends_in_result_or_clear_error(tmp_path, tiny_model_dir, lines, capsys):
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")
    code = main(["score", str(p), "--model", str(tiny_model_dir), "--format", "jsonl", "--allow-non-english"])
    captured = capsys.readouterr()
    assert code in (0, 1)
    assert "Traceback" not in captured.err
    if code == 1:
        assert "in.jsonl" in captured.err
