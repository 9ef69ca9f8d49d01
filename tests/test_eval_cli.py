import argparse
import json

import pytest
from claimsift.eval import cli

MINIMAL = [
    {"doc": "d1", "i": 0, "text": "Council backs bridge budget", "label": "no_claim",
     "speaker": None, "role": None, "cue": None, "named": None},
    {"doc": "d1", "i": 1, "text": "Mayor Ruth Ong said the bridge would reopen.", "label": "attributed_quote",
     "speaker": "Ruth Ong", "role": "Mayor", "cue": "said", "named": True},
    {"doc": "d2", "i": 0, "text": "The vote could mark a turning point.", "label": "speculation",
     "speaker": None, "role": None, "cue": None, "named": None},
    {"doc": "d2", "i": 1, "text": "Analysts say rents will rise.", "label": "unverifiable_expert_claim",
     "speaker": "Analysts", "role": None, "cue": "say", "named": False},
]


def _run(argv):
    """Parse and dispatch as the main ``claimsift`` CLI does."""
    parser = argparse.ArgumentParser(prog="claimsift")
    cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(cli.rewrite_argv(argv))
    return args.handler(args)


@pytest.fixture
def minimal_file(tmp_path):
    path = tmp_path / "draft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in MINIMAL))
    return path


def test_eval_minimal_file_with_a_baseline_prints_json(minimal_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    code = _run(["eval", str(minimal_file), "--model", "lexicon", "--json", "--resamples", "50",
                 "--output-dir", str(out_dir)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_sentences"] == 4 and data["accuracy"] == 1.0
    assert data["attribution"]["cue"]["exact"]["f1"] == 1.0
    written = {p.name for p in out_dir.iterdir()}
    assert written == {"report.md", "report.json", "confusion.png", "reliability.png"}


def test_eval_prints_markdown_by_default(minimal_file, capsys):
    assert _run(["eval", str(minimal_file), "--model", "lexicon", "--resamples", "20"]) == 0
    assert capsys.readouterr().out.startswith("# lexicon on draft.jsonl")


def test_eval_trains_baselines_on_a_given_file(minimal_file, capsys):
    assert _run(["eval", str(minimal_file), "--model", "tfidf-lr", "--train", str(minimal_file),
                 "--json", "--resamples", "20"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0


def test_eval_missing_file_is_bad_input(tmp_path, capsys):
    assert _run(["eval", str(tmp_path / "nope.jsonl"), "--model", "lexicon"]) == 1
    err = capsys.readouterr().err
    assert "nope.jsonl: no such file" in err and "doc, i, text, label" in err


def test_eval_malformed_file_is_bad_input(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"doc": "d", "i": 0, "text": "x", "label": "fact"}\n')
    assert _run(["eval", str(path), "--model", "lexicon"]) == 1
    assert "bad.jsonl:1: unknown label 'fact'" in capsys.readouterr().err


def test_eval_unknown_split_is_bad_call(minimal_file, capsys):
    assert _run(["eval", str(minimal_file), "--model", "lexicon", "--split", "dev"]) == 2
    assert "no records with split 'dev'" in capsys.readouterr().err


def test_eval_agreement_alias_and_exit_codes(minimal_file, tmp_path, capsys):
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps(dict(r, label="reported_fact")) + "\n" for r in MINIMAL))
    assert _run(["eval", "agreement", str(minimal_file), str(other), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_matched"] == 4 and data["raw_agreement"] == 0.0
    assert _run(["eval-agreement", str(minimal_file), str(tmp_path / "missing.jsonl")]) == 1


def test_eval_external_command(tmp_path, capsys):
    path = tmp_path / "subj.jsonl"
    rows = [{"text": "It may well be a gamble.", "source_label": "SUBJ", "mapped_label": "speculation"},
            {"text": "The bill passed on Monday.", "source_label": "OBJ", "mapped_label": None}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["eval", "external", "checkthat_subjectivity", str(path), "--model", "lexicon", "--json"]
    assert _run(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["binary"]["f1"] == 1.0 and data["n_evaluated"] == 2
    docs = tmp_path / "polnear.jsonl"
    rows = [{"doc": "d", "i": k, "text": t, "source_label": "x", "mapped_label": "attributed_quote", "id": str(k)}
            for k, t in enumerate(["Ann Lee said the bridge shut.", "Bo Day said it may open."])]
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for flag, context in (([], True), (["--no-context"], False)):
        assert _run(["eval-external", "polnear", str(docs), "--model", "lexicon", "--json", *flag]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["context"] is context and data["n_evaluated"] == 2
    assert _run(["eval-external", "nope", str(path), "--model", "lexicon"]) == 2
    assert _run(["eval-external", "szeged", str(tmp_path / "none.jsonl"), "--model", "lexicon"]) == 1


def test_rewrite_argv_leaves_a_real_file_named_like_a_command_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compare").write_text("")
    assert cli.rewrite_argv(["eval", "compare"]) == ["eval", "compare"]
    assert cli.rewrite_argv(["train", "compare"]) == ["train", "compare"]
