"""The window layout (context "window"): several sentences per encoder row, each token encoded once."""

import pytest
import torch
from claimsift.model import host
from claimsift.model.features import encode_windows
from claimsift.model.labels import LABELS

from claimsift import ClaimDetector

DOCS = [[f"Sentence {k} of document {d} says {'many words ' * ((k + d) % 7)}here." for k in range(n)]
        for d, n in enumerate((23, 1, 9, 40))]


@pytest.fixture()
def window_detector(tiny_base):
    return ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context="window", max_length=64)


def test_every_sentence_is_a_member_of_exactly_one_row_of_its_own_document(tiny_detector):
    tok = tiny_detector.tokenizer
    enc = encode_windows(tok, DOCS, 64, context_tokens=8)
    members = [i for row in enc["members"] for i in row]
    assert members == list(range(sum(map(len, DOCS))))
    doc_of = [d for d, doc in enumerate(DOCS) for _ in doc]
    flat = [s for doc in DOCS for s in doc]
    for ids, pos, row, spans in zip(enc["input_ids"], enc["sentence_pos"], enc["members"], enc["spans"], strict=True):
        assert len(ids) <= 64 and len(pos) == len(ids)
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
        assert len({doc_of[i] for i in row}) == 1  # documents never share a row
        for s, (i, (a, b)) in enumerate(zip(row, spans, strict=True)):
            assert pos[a:b] == [s + 1] * (b - a)  # the member's tokens, and only they, carry its position
            assert ids[a:b] == tok.backend_tokenizer.encode(flat[i], add_special_tokens=False).ids
        assert pos.count(0) >= 2  # [CLS] and [SEP] are nobody's
    # a row that does not start a document sees the end of the sentence before it, as context
    second = next(r for r, row in enumerate(enc["members"]) if row[0] not in (0, 23, 24, 33))
    assert enc["sentence_pos"][second][1] == 0 and enc["input_ids"][second][1] != tok.sep_token_id


def test_rows_packed_without_offsets_are_the_same_rows(tiny_detector):
    # a worker packing rows skips reading the offsets (a sixth of tokenizing); decoding reads them later
    full = encode_windows(tiny_detector.tokenizer, DOCS, 64, context_tokens=8)
    bare = encode_windows(tiny_detector.tokenizer, DOCS, 64, context_tokens=8, offsets=False)
    assert "offset_mapping" not in bare
    assert bare == {k: v for k, v in full.items() if k != "offset_mapping"}
    assert len(full["offset_mapping"]) == sum(map(len, DOCS))


def test_a_sentence_longer_than_a_row_is_cut_to_fit_beside_its_neighbours(tiny_detector):
    long = "Rents rose " * 200
    enc = encode_windows(tiny_detector.tokenizer, [["Before.", long, "After."]], 64, context_tokens=8)
    assert all(len(ids) <= 64 for ids in enc["input_ids"])
    assert len(enc["offset_mapping"][1]) == 64 - 2 - 16


def test_window_labels_do_not_depend_on_batch_size_chunks_or_neighbouring_documents(window_detector):
    one = window_detector.classify_many(DOCS)
    window_detector.batch_size = 4  # one row per batch
    other = window_detector.classify_many(DOCS)
    alone = [window_detector.classify(doc) for doc in DOCS]
    chunked = [res for group in window_detector._grouped(DOCS, chunk=5) for res in group]
    assert [len(res) for res in chunked] == [len(doc) for doc in DOCS]
    flat = [r for res in one for r in res]
    for a, b, c, d in zip(flat, [r for res in other for r in res], [r for res in alone for r in res],
                          [r for res in chunked for r in res], strict=True):
        assert all(abs(a.scores[k] - b.scores[k]) < 1e-6 and abs(a.scores[k] - c.scores[k]) < 1e-6
                   and abs(a.scores[k] - d.scores[k]) < 1e-6 for k in LABELS)


def test_window_rows_give_their_members_context(window_detector):
    """Unlike a context-free model, a sentence's scores move when its neighbour changes."""
    a = window_detector.classify(["She spoke at noon.", "It is over.", "Then she left."])
    b = window_detector.classify(["Markets fell 3% on Monday in Tokyo.", "It is over.", "Then she left."])
    assert any(abs(a[1].scores[k] - b[1].scores[k]) > 1e-6 for k in LABELS)


def test_window_model_scores_empty_and_attributed_sentences_and_round_trips(window_detector, tmp_path):
    res = window_detector.classify_many([["", "Mayor Ruth Ong said the bridge would reopen."], []])
    assert len(res[0]) == 2 and len(res[1]) == 0 and all(r.label in LABELS for r in res[0])
    text = 'Dr. Anya Petrova, an analyst, notes, "The talks are a gamble."\n\nShare below!'
    before = window_detector.score(text)
    assert [text[r.start:r.end] for r in before] == [r.text for r in before]
    folder = window_detector.save_pretrained(tmp_path / "w")
    for runtime in ("torch", "onnx"):
        after = ClaimDetector.from_pretrained(folder, device="cpu", runtime=runtime).score(text)
        for x, y in zip(before, after, strict=True):
            assert x.label == y.label and all(abs(x.scores[k] - y.scores[k]) < 1e-5 for k in LABELS)


def test_window_attribution_spans_index_their_own_sentence(window_detector):
    import torch

    with torch.no_grad():  # make every sentence a quote, so every one is decoded for speaker, role and cue
        window_detector.net.label_head.bias[LABELS.index("attributed_quote")] = 50.0
        window_detector.net.tag_head.bias.zero_()
        window_detector.net.tag_head.bias[1] = 20.0  # B-speaker: every word leans to a speaker
    sents = ["Intro line here.", "Mayor Ruth Ong said the bridge would reopen.", "Aides agreed."]
    for r, text in zip(window_detector.classify(sents), sents, strict=True):
        assert r.label == "attributed_quote" and r.attribution is not None
        sp = r.attribution.speaker
        assert sp is not None
        assert sp.from_context or text[sp.start:sp.end] == sp.text


def test_the_benchmarks_forward_alone_row_runs_the_same_window_batches(window_detector, tmp_path):
    from claimsift.eval.bench import _run_forward

    folder = window_detector.save_pretrained(tmp_path / "w")

    class Queue(list):
        put = list.append

    got = Queue()
    _run_forward(str(folder), 40, "cpu", None, got)
    assert got[0]["sentences"] >= 40 and got[0]["seconds"] > 0


def test_a_rows_edge_context_is_the_configured_number_of_neighbour_tokens(window_detector):
    from dataclasses import replace

    def first_spans(context_tokens):
        det = ClaimDetector(window_detector.net, window_detector.tokenizer,
                            replace(window_detector.config, window_context=context_tokens), device="cpu")
        enc = host.encode_group(det.host, DOCS)
        return [spans[0][0] for spans in enc["spans"]], enc

    starts, enc = first_spans(0)
    assert set(starts) == {1}  # [CLS], then the first member: no left context
    starts, enc = first_spans(6)
    doc_firsts = {sum(map(len, DOCS[:d])) for d in range(len(DOCS))}
    assert len(starts) > len(DOCS)  # some rows start mid-document
    for start, row in zip(starts, enc["members"], strict=True):
        assert start == (1 if row[0] in doc_firsts else 7)  # [CLS] and 6 tokens of the sentence before
    with pytest.raises(ValueError, match="window_context"):
        replace(window_detector.config, window_context=-1)
    with pytest.raises(ValueError, match="too short"):
        replace(window_detector.config, window_context=30)  # 64 tokens cannot hold two edges of 30


@pytest.mark.parametrize("context", ["window", "both"])
def test_the_benchmarks_host_row_replays_the_networks_outputs(tiny_base, tmp_path, context):
    from claimsift.eval.bench import _run_host

    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context=context, max_length=64)
    with torch.no_grad():
        det.net.label_head.bias[LABELS.index("attributed_quote")] = 2.0  # some sentences decode attribution
    folder = det.save_pretrained(tmp_path / context)

    class Queue(list):
        put = list.append

    got = Queue()
    _run_host(str(folder), 120, "cpu", 16, 0, got)  # raises if the replay labelled differently
    assert got[0]["sentences"] >= 120 and got[0]["seconds"] > 0 and got[0]["cpu_us"] > 0
