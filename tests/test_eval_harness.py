import json

import pytest
from claimsift.data.samples import write_jsonl
from claimsift.eval.agreement import agreement
from claimsift.eval.compare import compare, evaluate_grid, write_comparison
from claimsift.eval.external import eval_external, select_documents, select_rows
from claimsift.eval.harness import evaluate, run_eval, worst_errors
from claimsift.model.labels import LABELS

F, Q, S, E, N = LABELS


class FakePredictor:
    """Predicts from a text -> (label, confidence) table; the rest of the mass goes to no_claim,
    or to reported_fact when the label is no_claim."""

    def __init__(self, table, speaker=None):
        self.table, self.speaker = table, speaker
        self.seen = []

    def predict_records(self, records):
        self.seen.extend(records)
        out = []
        for r in records:
            label, conf = self.table[r["text"]]
            scores = [0.0] * 5
            scores[LABELS.index(label)] = conf
            scores[LABELS.index(N if label != N else F)] += 1 - conf
            out.append({
                "label": label, "scores": scores, "speaker": self.speaker, "role": None, "cue": "said",
                "named": True, "spans": {"speaker": None, "role": None, "cue": None},
            })
        return out


def _rec(doc, i, text, label, **kw):
    return {"doc": doc, "i": i, "text": text, "label": label, "speaker": None, "role": None, "cue": None,
            "named": None, **kw}


RECORDS = [
    _rec("a", 0, "A0.", F),
    _rec("a", 1, "A1.", S),
    _rec("a", 2, "A2.", Q, speaker="Ann", cue="said", named=True),
    _rec("b", 0, "B0.", E, speaker="analysts", cue="say", named=False),
    _rec("b", 1, "B1.", None),  # context only
    _rec("b", 2, "B2.", N),
]
TABLE = {"A0.": (F, 0.9), "A1.": (F, 0.8), "A2.": (Q, 0.7), "B0.": (F, 0.6), "B1.": (F, 0.5),
         "B2.": (N, 0.95)}


def test_evaluate_figures_on_a_fake_predictor():
    preds = FakePredictor(TABLE, speaker="Ann").predict_records(RECORDS)
    report = evaluate(RECORDS, preds, n_resamples=200)
    assert report.n_sentences == 5 and report.n_unscored == 1 and report.n_documents == 2
    assert report.accuracy == pytest.approx(3 / 5)  # A1 and B0 wrong
    assert report.costly_errors == {"speculation_as_fact": 1.0, "expert_claim_as_fact": 1.0,
                                    "quote_as_fact": 0.0}
    assert report.confusion[LABELS.index(S)][LABELS.index(F)] == 1
    assert report.accuracy_ci[0] <= report.accuracy <= report.accuracy_ci[1]
    assert report.attribution["speaker"]["exact"]["precision"] == 0.5  # "Ann" right, "Ann" for analysts wrong
    assert report.attribution["named_accuracy"] == 0.5
    assert [e.text for e in report.worst_errors] == ["A1.", "B0."]  # 0.8 before 0.6


def test_worst_errors_carry_neighbouring_sentences_including_unlabelled_ones():
    records = RECORDS[3:] + RECORDS[:3]  # document order in the list does not matter
    preds = FakePredictor(TABLE).predict_records(records)
    errors = worst_errors(records, preds, k=5)
    b0 = next(e for e in errors if e.text == "B0.")
    assert (b0.previous, b0.next) == (None, "B1.")
    a1 = next(e for e in errors if e.text == "A1.")
    assert (a1.gold, a1.predicted, a1.confidence) == (S, F, 0.8)
    assert (a1.previous, a1.next) == ("A0.", "A2.")
    assert len(worst_errors(records, preds, k=1)) == 1


def test_evaluate_refuses_misaligned_or_unlabelled_input():
    preds = FakePredictor(TABLE).predict_records(RECORDS)
    with pytest.raises(ValueError, match="one prediction per record"):
        evaluate(RECORDS, preds[:-1])
    with pytest.raises(ValueError, match="no labelled sentences"):
        evaluate([RECORDS[4]], preds[4:5])


def test_run_eval_writes_report_files(tmp_path):
    path = tmp_path / "gold.jsonl"
    write_jsonl(RECORDS, path)
    fake = FakePredictor(TABLE)
    report = run_eval(path, fake, tmp_path / "out", n_resamples=50)
    assert [r["text"] for r in fake.seen] == [r["text"] for r in RECORDS]  # context sentence included
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["confusion.png", "reliability.png", "report.json", "report.md"]
    for png in ("confusion.png", "reliability.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["accuracy"] == report.accuracy and len(data["reliability"]) == 15
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| macro-F1 |" in md and "speculation → reported_fact" in md


def test_report_to_dict_is_strict_json():
    preds = FakePredictor(TABLE).predict_records(RECORDS)
    report = evaluate(RECORDS, preds, n_resamples=20)
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["per_label"][S]["support"] == 1


def test_run_eval_split_selection(tmp_path):
    recs = [dict(r, split="dev" if r["doc"] == "a" else "test") for r in RECORDS]
    report = run_eval(recs, FakePredictor(TABLE), split="dev", n_resamples=20)
    assert report.n_sentences == 3
    with pytest.raises(ValueError, match="splits present: \\['dev', 'test'\\]"):
        run_eval(recs, FakePredictor(TABLE), split="hard")


def test_agreement_on_two_small_files(tmp_path):
    a = [_rec("d", i, f"S{i}.", lab) for i, lab in enumerate([N, N, S, S])]
    b = [_rec("d", i, f"S{i}.", lab) for i, lab in enumerate([N, S, S, S])] + [_rec("e", 0, "X.", F)]
    write_jsonl(a, tmp_path / "a.jsonl")
    write_jsonl(b, tmp_path / "b.jsonl")
    from claimsift.data.samples import read_samples

    report = agreement(read_samples(tmp_path / "a.jsonl"), read_samples(tmp_path / "b.jsonl"))
    assert (report.n_matched, report.n_only_a, report.n_only_b) == (4, 0, 1)
    assert report.raw_agreement == 0.75
    assert report.kappa == pytest.approx(0.5)  # worked by hand in test_eval_metrics
    assert report.per_label_kappa[N] == pytest.approx(0.5)
    assert report.confusion[LABELS.index(N)][LABELS.index(S)] == 1
    assert json.loads(json.dumps(report.to_dict(), allow_nan=False))["per_label_kappa"][F] is None
    assert "Cohen's kappa | 0.500" in report.to_markdown()


def test_agreement_refuses_different_texts_under_one_key():
    a = [_rec("d", 0, "One.", N)]
    b = [_rec("d", 0, "Another.", N)]
    with pytest.raises(ValueError, match="d#0"):
        agreement(a, b)


def _external_file(tmp_path):
    rows = [
        {"text": text, "source_label": source, "mapped_label": None, "id": str(n)}
        for n, (text, source) in enumerate([
            ("Some experts say it is the oldest.", "uncertain"),
            ("It may have been built in 1200.", "uncertain"),
            ("The bridge opened in 1932.", "certain"),
            ("The bridge opened in 1932.", "certain"),
            ("It is 40 metres long.", "certain"),
        ])
    ]
    path = tmp_path / "conll2010_wikipedia_weasel.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_external_binary_check_on_a_tiny_file(tmp_path):
    from claimsift.eval.baselines import LexiconBaseline

    path = _external_file(tmp_path)
    report = eval_external("conll2010", tmp_path, LexiconBaseline())  # the folder works too
    assert (report.n_rows, report.n_duplicates, report.n_evaluated) == (5, 1, 4)
    assert report.binary["precision"] == 1.0 and report.binary["recall"] == 1.0
    assert report.binary["auroc"] == 1.0
    assert report.distribution["certain"]["reported_fact"] == 1.0
    assert report.silver is None
    limited = eval_external("conll2010", path, LexiconBaseline(), limit=2, seed=1)
    assert limited.n_evaluated == 2
    assert "each sentence is scored without context" in limited.to_markdown().lower()


def test_eval_external_silver_labels(tmp_path):
    rows = [
        {"text": "Ann Lee said it rained.", "source_label": "x", "mapped_label": Q, "id": "1"},
        {"text": "It rained on Monday.", "source_label": "y", "mapped_label": F, "id": "2"},
        {"text": "It might rain.", "source_label": "z", "mapped_label": None, "id": "3"},
    ]
    path = tmp_path / "mpqa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    from claimsift.eval.baselines import LexiconBaseline

    report = eval_external("mpqa", path, LexiconBaseline())
    assert report.silver["n"] == 2 and report.silver["labels"] == [F, Q]
    assert report.silver["macro_f1"] == 1.0 and report.binary is None
    assert set(report.distribution) == {F, Q, "null"}


class ContextPredictor(FakePredictor):
    """Labels a sentence attributed_quote only when the sentence before it in its document names
    the speaker ("Ann Lee said:"): its answer depends on the context it is given."""

    def predict_records(self, records):
        preds = super().predict_records(records)
        for k, (r, p) in enumerate(zip(records, preds, strict=True)):
            if k and records[k - 1]["doc"] == r["doc"] and records[k - 1]["text"] == "Ann Lee said:":
                p["label"], p["scores"] = Q, [0.0, 1.0, 0.0, 0.0, 0.0]
        return preds


def _document_rows():
    # Document d2 reprints d1's second line; rows are out of order in the file.
    return [
        {"doc": "d1", "i": 1, "text": "Rain is coming.", "source_label": "q", "mapped_label": Q, "id": "a"},
        {"doc": "d1", "i": 0, "text": "Ann Lee said:", "source_label": "n", "mapped_label": None, "id": "b"},
        {"doc": "d2", "i": 0, "text": "Rain is coming.", "source_label": "q", "mapped_label": Q, "id": "c"},
        {"doc": "d2", "i": 1, "text": "The bridge shut.", "source_label": "f", "mapped_label": F, "id": "d"},
        {"doc": "d3", "i": 0, "text": "It shut again.", "source_label": "f", "mapped_label": F, "id": "e"},
    ]


def test_eval_external_scores_documents_in_context(tmp_path):
    path = tmp_path / "mpqa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _document_rows()))
    table = {"Rain is coming.": (F, 0.9), "Ann Lee said:": (N, 0.9), "The bridge shut.": (F, 0.9),
             "It shut again.": (F, 0.9)}
    predictor = ContextPredictor(table)
    report = eval_external("mpqa", path, predictor)
    # In order and in context, the quote's second line is read as the quote it is; its reprint
    # opens d2 as context but is counted once (alone, with nothing before it, it would be wrong).
    assert report.context and report.n_documents == 3
    assert (report.n_evaluated, report.n_duplicates) == (4, 1)
    assert report.silver["accuracy"] == 1.0
    assert [r["text"] for r in predictor.seen][:2] == ["Ann Lee said:", "Rain is coming."]
    assert "each sentence in its context" in report.to_markdown()
    alone = eval_external("mpqa", path, ContextPredictor(table), context=False)
    assert not alone.context and alone.n_evaluated == 4 and alone.silver["accuracy"] == 2 / 3
    assert "without context" in alone.to_markdown()
    # A sample of documents stops once it holds the limit, keeping the last document whole.
    limited = eval_external("mpqa", path, ContextPredictor(table), limit=1, seed=0)
    assert limited.n_documents == 1 and limited.n_evaluated in (1, 2)


def test_select_documents_is_seeded_and_keeps_documents_whole():
    rows = [{"doc": f"d{k // 3}", "i": k % 3, "text": f"s{k}"} for k in range(30)]
    docs, repeated = select_documents(rows, 7, 5)
    assert docs == select_documents(rows, 7, 5)[0] and repeated == 0
    assert len(docs) == 3 and all(len(d) == 3 for d in docs)
    assert all([r["i"] for r in d] == [0, 1, 2] for d in docs)
    assert docs != select_documents(rows, 7, 6)[0]


def test_eval_external_context_needs_documents(tmp_path):
    from claimsift.eval.baselines import LexiconBaseline

    path = _external_file(tmp_path)
    with pytest.raises(ValueError, match="no 'doc' and 'i'"):
        eval_external("conll2010", path, LexiconBaseline(), context=True)


def test_eval_external_errors_name_the_problem(tmp_path):
    from claimsift.eval.baselines import LexiconBaseline

    with pytest.raises(ValueError, match="unknown external set"):
        eval_external("nope", tmp_path, LexiconBaseline())
    with pytest.raises(FileNotFoundError, match="conll2010_wikipedia_weasel.jsonl"):
        eval_external("conll2010", tmp_path, LexiconBaseline())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1: missing field"):
        eval_external("szeged", bad, LexiconBaseline())


def test_select_rows_sample_is_seeded():
    rows = [{"text": f"s{k}"} for k in range(50)]
    assert select_rows(rows, 10, 3) == select_rows(rows, 10, 3)
    assert select_rows(rows, 10, 3) != select_rows(rows, 10, 4)


def test_compare_table_and_files(tmp_path):
    splits = {"dev": [r for r in RECORDS if r["doc"] == "a"], "test": [r for r in RECORDS if r["doc"] == "b"]}
    predictors = {"fake": FakePredictor(TABLE), "all-fact": FakePredictor(dict.fromkeys(TABLE, (F, 1.0)))}
    table = compare(predictors, splits, n_resamples=20)
    rows = table.strip().splitlines()
    assert len(rows) == 2 + 4
    assert rows[2].startswith("| dev | fake | 3 | 0.667 |")
    reports = evaluate_grid(predictors, splits, n_resamples=20)
    path = write_comparison(reports, tmp_path, notes="Fitted on nothing.")
    assert "Fitted on nothing." in path.read_text()
    assert (tmp_path / "confusion_test_all-fact.png").exists()
    figures = json.loads((tmp_path / "comparison.json").read_text())
    assert "worst_errors" not in figures["dev/fake"]


def test_make_results_external_only_writes_external_md(tmp_path):
    from claimsift.eval import make_results
    from claimsift.eval.external import EXTERNAL_SETS

    folder = tmp_path / "external"
    folder.mkdir()
    for spec in EXTERNAL_SETS.values():
        label = spec.positive[0] if spec.positive else "x"
        rows = [{"text": t, "source_label": label, "mapped_label": F if spec.silver else None, "id": str(k),
                 "doc": "d", "i": k}
                for k, t in enumerate(["The bridge shut on Monday.", "Experts say it may reopen."])]
        (folder / spec.filename).write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "results"
    out.mkdir()
    argv = ["--models", "", "--external", str(folder), "--external-only", "--output-dir", str(out)]
    assert make_results.main(argv) == 0
    assert [p.name for p in out.iterdir()] == ["external.md"]
    text = (out / "external.md").read_text()
    assert text.count("## lexicon on ") == len(EXTERNAL_SETS)
    mpqa = text[text.index("## lexicon on mpqa"):text.index("## lexicon on polnear")]
    assert "in 1 documents" in mpqa and "in its context" in mpqa
    for other in ("conll2010", "checkthat_debates"):  # no documents; one debate is a whole evening
        section = text[text.index(f"## lexicon on {other}"):]
        assert "without context" in section.split("\n## lexicon on ")[0]
    with pytest.raises(SystemExit):
        make_results.main(["--models", "", "--external-only", "--output-dir", str(out)])


def test_polnear_attribution_is_scored_against_its_source_and_cue_spans(tmp_path):
    rows = [
        {"doc": "d", "i": 0, "text": "Ann Lee, the mayor, said it rained.", "mapped_label": Q, "id": "a",
         "source_label": "attribution[cue='said'; source='Ann Lee, the mayor']"},
        {"doc": "d", "i": 1, "text": "He said it rained again.", "mapped_label": Q, "id": "b",
         "source_label": "attribution[cue='said'; source='He']"},
        {"doc": "d", "i": 2, "text": "Bo Day wrote, and Al Ek said, it rained.", "mapped_label": Q, "id": "c",
         "source_label": "attribution[cue='wrote'; source='Bo Day'] +1 more"},  # two attributions: left out
        {"doc": "d", "i": 3, "text": "Lee's aides think it rained.", "mapped_label": None, "id": "e",
         "source_label": "attribution[cue='think'; source=\"Lee's aides\"]"},  # no label of ours: left out
    ]
    path = tmp_path / "polnear.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = {r["text"]: (Q, 0.9) for r in rows}
    report = eval_external("polnear", path, FakePredictor(table, speaker="Ann Lee"))
    a = report.attribution
    assert a["n"] == 2 and a["all"]["cue_exact"] == 1.0 and a["all"]["flagged"] == 1.0
    assert a["all"]["speaker_in_source"] == 0.5  # "Ann Lee" is not inside "He"
    assert a["named in the sentence"] == {"n": 1, "flagged": 1.0, "cue_exact": 1.0, "speaker_in_source": 1.0}
    assert "speaker found in the source" in report.to_markdown()
    wrong = eval_external("polnear", path, FakePredictor(table, speaker="the mayor said"))
    assert wrong.attribution["all"]["speaker_in_source"] == 0.0
    assert eval_external("mpqa", path, FakePredictor(table)).attribution is None  # MPQA gives no spans


def test_span_attribution_leaves_every_pronoun_source_out_of_the_named_ones():
    from claimsift.eval.external import _span_attribution

    rows = [{"source_label": f"attribution[cue='said'; source='{source}']", "mapped_label": Q}
            for source in ("His", "who", "Ann Lee")]
    preds = [{"label": Q, "speaker": "Ann Lee", "cue": "said"}] * 3
    figures = _span_attribution(rows, preds)
    assert figures["all"]["n"] == 3 and figures["named in the sentence"]["n"] == 1
