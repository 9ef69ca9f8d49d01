import json

import pytest
from claimsift.model.bases import IntegrityError
from claimsift.model.detector import ModelFolderError
from claimsift.model.labels import LABELS

from claimsift import ClaimDetector, SentenceResult

DRAFT = ('Dr. Anya Petrova, a geopolitical analyst at the Institute for Strategic Studies, notes, '
         '"The Miami talks are a gamble."\n\nShare your thoughts below!\nPrices rose 3% on Monday.')


def test_score_returns_frozen_results_with_offsets_into_the_input(tiny_detector):
    results = tiny_detector.score(DRAFT)
    assert [DRAFT[r.start:r.end] for r in results] == [r.text for r in results]
    assert len(results) == 3
    r = results[0]
    assert isinstance(r, SentenceResult) and r.label in LABELS
    assert set(r.scores) == set(LABELS) and abs(sum(r.scores.values()) - 1) < 1e-5
    assert r.confidence == max(r.scores.values())
    with pytest.raises(AttributeError):
        r.label = "no_claim"
    d = r.to_dict()
    assert json.loads(json.dumps(d))["text"] == r.text and "verify" in d
    assert "<table>" in results._repr_html_()


def test_save_and_reload_give_identical_probabilities(tiny_detector, tmp_path):
    before = tiny_detector.score(DRAFT)
    tiny_detector.save_pretrained(tmp_path / "m")
    after = ClaimDetector.from_pretrained(tmp_path / "m", device="cpu").score(DRAFT)
    for a, b in zip(before, after, strict=True):
        assert a.label == b.label
        assert all(abs(a.scores[k] - b.scores[k]) < 1e-6 for k in LABELS)


def test_lora_model_saves_only_the_adapter_and_heads(tiny_base, tmp_path):
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="lora", lora_r=4)
    folder = det.save_pretrained(tmp_path / "lora")
    assert (folder / "adapter" / "adapter_model.safetensors").exists()
    assert not (folder / "encoder.safetensors").exists()
    again = ClaimDetector.from_pretrained(folder, device="cpu")
    assert again.config.adapter == "lora"
    assert [r.label for r in again.score(DRAFT)] == [r.label for r in det.score(DRAFT)]


def test_labels_do_not_depend_on_batch_size_or_order(tiny_detector):
    sents = [f"Sentence number {k} says {'many words ' * (k % 7)}here." for k in range(40)]
    tiny_detector.batch_size = 64
    one = tiny_detector.classify(sents)
    tiny_detector.batch_size = 3
    other = tiny_detector.classify(sents)
    for a, b in zip(one, other, strict=True):
        assert all(abs(a.scores[k] - b.scores[k]) < 1e-6 for k in LABELS)
    batched = tiny_detector.classify_many([sents[:20], sents[20:]])
    assert [r.label for r in batched[0] + batched[1]] == [r.label for r in one]


def test_groups_tokenized_ahead_give_the_same_rows(tiny_detector):
    """The background thread tokenizes group k+1 while group k runs; grouping must not change a row."""
    docs = [[f"Row {k} of {d} is {'long ' * (k % 9)}enough." for k in range(d + 2)] for d in range(7)]
    whole = tiny_detector.classify_many(docs)
    chunked = [res for group in tiny_detector._grouped(docs, chunk=5) for res in group]
    assert [len(res) for res in chunked] == [len(doc) for doc in docs]
    for a, b in zip([r for res in whole for r in res], [r for res in chunked for r in res], strict=True):
        assert a.label == b.label and max(abs(a.scores[k] - b.scores[k]) for k in LABELS) < 1e-6


def test_lanes_run_batches_in_threads_and_change_no_result(tiny_detector, monkeypatch):
    """Two lanes (the CPU default) run a group's batches from two threads while this one decodes the
    group before; the results are those of one batch at a time, attribution included."""
    import threading

    docs = [[f"Row {k} of {d} is {'long ' * (k % 9)}enough.", 'Mayor Ruth Ong said, "The plan is sound."']
            for d in range(9) for k in range(d + 2)]
    assert tiny_detector.lanes == 2
    tiny_detector.batch_size = 3  # many batches a group, many groups
    threads = set()
    run = tiny_detector._run
    monkeypatch.setattr(tiny_detector, "_run", lambda inputs: threads.add(threading.current_thread().name)
                        or run(inputs))
    two = [r for group in tiny_detector._grouped(docs, chunk=7) for res in group for r in res]
    assert threads and all(name.startswith("claimsift-lane") for name in threads)
    tiny_detector.close()
    assert tiny_detector._lane_pool is None
    tiny_detector.lanes, threads = 1, set()  # the patched _run reads the name, so it now fills this set
    one = [r for group in tiny_detector._grouped(docs, chunk=7) for res in group for r in res]
    assert threads == {threading.current_thread().name}
    assert [r.to_dict() for r in two] == [r.to_dict() for r in one]


def test_lanes_default_to_two_in_torch_on_a_cpu_and_are_checked(tiny_model_dir):
    import torch
    from claimsift.model.detector import _lanes

    assert ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime="torch").lanes == 2
    assert ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime="torch", lanes=1).lanes == 1
    assert ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx").lanes == 1  # two were slower there
    assert _lanes(None, torch.device("cuda"), torch.nn.Linear(1, 1)) == 1
    with pytest.raises(ValueError, match="lanes must be 1 or more"):
        ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime="torch", lanes=0)
    with pytest.raises(ValueError, match="lanes is for CPU"):
        _lanes(2, torch.device("cuda"), torch.nn.Linear(1, 1))


def test_fast_encoding_matches_the_tokenizer_call(tiny_detector):
    from claimsift.model.features import context_pairs, encode

    tok = tiny_detector.tokenizer
    sents = ["Mayor Ruth Ong said the bridge would reopen.", "", "Rents rose " * 60, "It’s “done,” she said."]
    for mode in ("none", "both"):
        ctx = context_pairs(sents, mode, tok.sep_token)
        fast = encode(tok, sents, ctx, 32)
        ref = tok(sents, ctx if mode != "none" else None, truncation=True, max_length=32, return_offsets_mapping=True)
        for key in ("input_ids", "attention_mask", "token_type_ids", "offset_mapping"):
            assert [list(map(tuple, r)) if key == "offset_mapping" else list(r) for r in fast[key]] == \
                   [list(map(tuple, r)) if key == "offset_mapping" else list(r) for r in ref[key]], key
        assert fast["sentence_mask"] == [[int(s == 0) for s in ref.sequence_ids(k)] for k in range(len(sents))]


def test_corrupted_weights_are_refused(tiny_detector, tmp_path):
    folder = tiny_detector.save_pretrained(tmp_path / "m")
    with open(folder / "heads.safetensors", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(IntegrityError, match="sha256"):
        ClaimDetector.from_pretrained(folder, device="cpu")


def test_a_model_folder_with_other_labels_is_refused(tiny_detector, tmp_path):
    folder = tiny_detector.save_pretrained(tmp_path / "m")
    cfg = json.loads((folder / "claimsift.json").read_text())
    cfg["labels"] = ["fact", "opinion"]
    (folder / "claimsift.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="do not match"):
        ClaimDetector.from_pretrained(folder, device="cpu")


def test_not_a_model_folder_says_what_was_expected(tmp_path):
    with pytest.raises(ModelFolderError, match="no claimsift.json"):
        ClaimDetector.from_pretrained(tmp_path)


def test_predict_records_follows_the_eval_contract(tiny_detector):
    recs = [{"doc": "d", "i": i, "text": t} for i, t in enumerate(["A said so.", "It rained."])]
    preds = tiny_detector.predict_records(recs)
    assert len(preds) == 2 and all(p["label"] in LABELS and len(p["scores"]) == 5 for p in preds)


def test_score_frame_reads_paths_and_texts(tiny_detector, tmp_path):
    p = tmp_path / "draft.txt"
    p.write_text("Prices rose. Analysts say they may fall.")
    df = tiny_detector.score_frame([p, "Share this story!"])
    assert list(df["doc"].unique()) == [str(p), "text-1"]
    assert {"label", "confidence", "speaker", "verify", "p_speculation"} <= set(df.columns)


def test_lora_merge_is_cached_and_a_damaged_cache_is_rebuilt(tiny_base, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMSIFT_CACHE", str(tmp_path / "cache"))
    folder = ClaimDetector.new(str(tiny_base), device="cpu", adapter="lora", lora_r=4).save_pretrained(tmp_path / "m")
    first = ClaimDetector.from_pretrained(folder, device="cpu").score(DRAFT)
    cached = list((tmp_path / "cache" / "merged").glob("*.safetensors"))
    assert len(cached) == 1
    second = ClaimDetector.from_pretrained(folder, device="cpu").score(DRAFT)
    with open(cached[0], "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    third = ClaimDetector.from_pretrained(folder, device="cpu").score(DRAFT)
    for a, b, c in zip(first, second, third, strict=True):
        assert all(abs(a.scores[k] - b.scores[k]) < 1e-6 and abs(a.scores[k] - c.scores[k]) < 1e-6 for k in LABELS)


def test_min_role_score_is_checked_saved_and_reaches_decoding(tiny_detector, tmp_path):
    from dataclasses import replace

    from claimsift.model.detector import DetectorConfig

    with pytest.raises(ValueError, match="min_role_score"):
        DetectorConfig(min_role_score=1.5)
    tiny_detector.config = replace(tiny_detector.config, min_role_score=0.6)
    tiny_detector.save_pretrained(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "claimsift.json").read_text())["min_role_score"] == 0.6
    reloaded = ClaimDetector.from_pretrained(tmp_path / "m", device="cpu")
    assert reloaded.config.min_role_score == 0.6 and reloaded.host.min_role_score == 0.6
