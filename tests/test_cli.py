import csv
import io
import json
import zipfile

import pytest

from claimsift.cli import main

DRAFT = ("Home > World\n\nDr. Anya Petrova, a geopolitical analyst at the Institute for Strategic Studies, "
         "notes, \"The Miami talks are a gamble.\" She added that nobody should expect a deal.\n\n"
         "Share your thoughts below!\n")


@pytest.fixture()
def drafts(tmp_path):
    folder = tmp_path / "drafts"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(DRAFT)
    (folder / "b.md").write_text("# Heading\n\nPrices rose 3% on Monday. Officials said more rises may come.\n")
    (folder / "sub" / "c.html").write_text("<html><body><h1>Title</h1><p>Mr Brown said it was over.</p>"
                                           "<script>var x=1;</script></body></html>")
    (folder / "d.jsonl").write_text(json.dumps({"id": "x1", "text": "Rain fell."}) + "\n"
                                    + json.dumps({"id": "x2", "text": "Experts say so."}) + "\n")
    import docx

    doc = docx.Document()
    doc.add_paragraph("Analysts believe the merger would create a giant.")
    doc.save(folder / "e.docx")
    return folder


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_a_folder_to_jsonl(drafts, tiny_model_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(out)]) == 0
    rows = read_jsonl(out)
    docs = {r["doc"] for r in rows}
    assert any(d.endswith("a.txt") for d in docs) and any(d.endswith("d.jsonl#x2") for d in docs)
    assert any(d.endswith("c.html") for d in docs) and any(d.endswith("e.docx") for d in docs)
    assert not any("var x" in r["text"] for r in rows)
    first = rows[0]
    assert {"doc", "index", "start", "end", "text", "label", "confidence", "scores", "attribution",
            "verify"} <= set(first)
    src = (drafts / "a.txt").read_text()
    for r in (r for r in rows if r["doc"].endswith("a.txt")):
        assert src[r["start"]:r["end"]] == r["text"]


@pytest.mark.parametrize("fmt, check", [
    ("csv", lambda s: "label" in next(csv.reader(io.StringIO(s)))),
    ("html", lambda s: s.startswith("<!DOCTYPE html>") and "To verify" in s),
    ("table", lambda s: "Prices rose" in s),
])
def test_other_formats(drafts, tiny_model_dir, tmp_path, fmt, check):
    out = tmp_path / f"out.{fmt}"
    assert main(["score", str(drafts / "b.md"), str(drafts / "a.txt"), "--model", str(tiny_model_dir),
                 "--output", str(out)]) == 0
    assert check(out.read_text())


def test_stdin(tiny_model_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("Prices rose. Analysts say they may fall."))
    assert main(["score", "-", "--model", str(tiny_model_dir), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["Prices rose.", "Analysts say they may fall."]


def test_bad_inputs_are_reported_and_the_rest_is_still_scored(drafts, tiny_model_dir, tmp_path, capsys):
    (drafts / "empty.txt").write_text("")
    (drafts / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00")
    (drafts / "latin1.txt").write_bytes("Caf\xe9 prices rose.".encode("latin-1"))
    (drafts / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (drafts / "bad.jsonl").write_text("{not json\n")
    (drafts / "french.txt").write_text("Le gouvernement a annoncé mardi une réforme des retraites " * 10)
    big = drafts / "big.txt"
    big.write_text("Prices rose. " * 2000)
    out = tmp_path / "out.jsonl"
    code = main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(out),
                 "--max-bytes", "20000"])
    err = capsys.readouterr().err
    assert code == 1
    for name, why in [("empty.txt", "empty"), ("binary.txt", "binary"), ("latin1.txt", "UTF-8"),
                      ("broken.docx", "docx"), ("bad.jsonl", "JSON"), ("french.txt", "English"),
                      ("big.txt", "limit")]:
        assert any(name in line and why in line for line in err.splitlines()), (name, err)
    assert any(r["doc"].endswith("a.txt") for r in read_jsonl(out))


def test_wrong_calls_exit_2(tiny_model_dir, tmp_path, capsys):
    assert main(["score"]) == 2
    assert main(["score", "x.txt", "--format", "pdf"]) == 2
    assert main(["score", "x.txt", "--model", str(tmp_path)]) == 2
    assert main(["score", "x.txt", "--resume", "--model", str(tiny_model_dir)]) == 2
    assert main(["score", "x.txt", "--model", str(tiny_model_dir), "--output", str(tmp_path / "no/dir/o.jsonl")]) == 2
    assert "claimsift.json" in capsys.readouterr().err


def test_missing_file_is_a_per_input_failure(tiny_model_dir, drafts, tmp_path):
    out = tmp_path / "o.jsonl"
    assert main(["score", str(drafts / "a.txt"), str(tmp_path / "nope.txt"), "--model", str(tiny_model_dir),
                 "--output", str(out)]) == 1
    assert out.exists()


def test_worklist_groups_people_and_marks_verified(drafts, tiny_model_dir, tmp_path):
    verified = tmp_path / "verified.csv"
    verified.write_text("speaker\nDr. Anya Petrova\n")
    out = tmp_path / "worklist.csv"
    code = main(["worklist", str(drafts), "--model", str(tiny_model_dir), "--output", str(out),
                 "--verified", str(verified)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert all(set(r) >= {"speaker", "role", "status", "drafts", "count"} for r in rows)


def test_resume_scores_only_what_is_missing(drafts, tiny_model_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(out)]) == 0
    full = out.read_text()
    lines = full.splitlines(keepends=True)
    # Simulate an interruption: a partial file with whole records, a cut-off line, no final file.
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text("".join(lines[:3]) + lines[3][:10])
    out.unlink()
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(out), "--resume"]) == 0
    resumed = read_jsonl(out)
    keys = [(r["doc"], r["index"]) for r in resumed]
    assert len(keys) == len(set(keys)) == len(lines)
    assert sorted(keys) == sorted((json.loads(x)["doc"], json.loads(x)["index"]) for x in lines)


def test_docx_zip_without_document_part(tmp_path, tiny_model_dir, capsys):
    bad = tmp_path / "x.docx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("hello.txt", "hi")
    assert main(["score", str(bad), "--model", str(tiny_model_dir)]) == 1
    assert "x.docx" in capsys.readouterr().err


def test_a_killed_run_resumes_without_duplicates_or_truncation(tiny_model_dir, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "many"
    folder.mkdir()
    for k in range(80):
        (folder / f"d{k:03d}.txt").write_text(" ".join(f"Sentence {j} of draft {k} is here." for j in range(25)))
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    cmd = [sys.executable, "-m", "claimsift.cli", "score", str(folder), "--model", str(tiny_model_dir),
           "--output", str(out), "--flush-every", "50"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (partial.exists() and partial.stat().st_size > 0):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "an interrupted run must not leave a file that looks complete"
    done_before = {json.loads(x)["doc"] for x in partial.read_text().splitlines() if x.endswith("}")}
    assert 0 < len(done_before) < 80
    assert main(["score", str(folder), "--model", str(tiny_model_dir), "--output", str(out), "--resume"]) == 0
    rows = read_jsonl(out)
    keys = [(r["doc"], r["index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 80 * 25
    assert all(sum(1 for r in rows if r["doc"] == d) == 25 for d in done_before)


def test_unwritable_output_is_reported(drafts, tiny_model_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["score", str(drafts / "a.txt"), "--model", str(tiny_model_dir), "--output",
                 str(blocker / "out.csv")])
    assert code == 2 and "out.csv" in capsys.readouterr().err


def test_a_five_thousand_word_sentence_is_scored(tiny_model_dir, tmp_path):
    p = tmp_path / "long.txt"
    p.write_text("The council said " + " and ".join(f"item {k}" for k in range(2500)) + ".")
    out = tmp_path / "o.jsonl"
    assert main(["score", str(p), "--model", str(tiny_model_dir), "--output", str(out)]) == 0
    rows = read_jsonl(out)
    assert len(rows) == 1 and rows[0]["end"] == len(p.read_text())


def test_score_with_the_onnx_runtime_gives_the_torch_labels(drafts, tiny_model_dir, tmp_path):
    torch_out, onnx_out = tmp_path / "torch.jsonl", tmp_path / "onnx.jsonl"
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(torch_out)]) == 0
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(onnx_out),
                 "--runtime", "onnx"]) == 0
    a, b = read_jsonl(torch_out), read_jsonl(onnx_out)
    assert [(r["doc"], r["text"], r["label"]) for r in a] == [(r["doc"], r["text"], r["label"]) for r in b]
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--runtime", "onnx",
                 "--device", "cuda"]) == 2


def _args(**kw):
    import argparse

    base = dict(runtime="auto", device=None, quantize=False, precision="auto")
    return argparse.Namespace(**{**base, **kw})


def _texts(docs):
    return [d.text for d in docs]


def test_auto_runtime_is_torch_for_a_large_batch_on_a_bf16_cpu(monkeypatch, caplog):
    from claimsift.model import precision as prec
    from claimsift.model.readers import Document

    from claimsift import cli

    monkeypatch.delenv(prec.ENV, raising=False)
    monkeypatch.setattr(cli, "TORCH_ABOVE_CHARS", 25)
    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: True)
    texts = [f"Sentence number {k} is here." for k in range(10)]  # 27 or 28 characters each
    pulled = []

    def docs():
        for t in texts:
            pulled.append(t)
            yield Document(f"d{len(pulled)}", t)

    with caplog.at_level("INFO", logger="claimsift.cli"):
        runtime, out = cli._pick_runtime(_args(), docs())
    assert runtime == "auto"  # the library's auto: torch bf16 on this CPU
    assert "runtime: torch" in caplog.text  # with -v; eval/bench.py's score_folder reads it
    assert len(pulled) == 1  # decided on the first document past the threshold, the rest still unread
    assert _texts(out) == texts  # none lost, none repeated, order kept
    # a resumed run's finished documents do not count: with all but the last done, 28 characters are left
    monkeypatch.setattr(cli, "TORCH_ABOVE_CHARS", 30)
    assert cli._pick_runtime(_args(), docs())[0] == "auto"
    pulled.clear()
    runtime, out = cli._pick_runtime(_args(), docs(), done={f"d{k}" for k in range(1, 10)})
    assert runtime == "onnx" and len(pulled) == 10 and _texts(out) == texts
    monkeypatch.setattr(cli, "TORCH_ABOVE_CHARS", 10_000)
    runtime, out = cli._pick_runtime(_args(), (Document(str(k), t) for k, t in enumerate(texts)))
    assert runtime == "onnx" and _texts(out) == texts  # a small batch keeps ONNX Runtime's quick start
    monkeypatch.setattr(cli, "TORCH_ABOVE_CHARS", 25)
    for args, bf16 in [(_args(), False), (_args(quantize=True), True), (_args(precision="fp32"), True),
                       (_args(precision="bf16"), True), (_args(runtime="onnx"), True), (_args(device="cuda"), True)]:
        monkeypatch.setattr(prec, "cpu_lists_bf16", lambda bf16=bf16: bf16)
        given = iter([Document("x", t) for t in texts])
        runtime, out = cli._pick_runtime(args, given)
        assert runtime == args.runtime and out is given  # nothing read ahead where the size changes nothing
    from claimsift.model import detector

    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: True)
    found = detector._device
    monkeypatch.setattr(detector, "_device", lambda device: device or "cuda")  # a GPU, found without --device
    given = iter([Document("x", t) for t in texts])
    assert cli._pick_runtime(_args(), given) == ("auto", given)  # auto is torch on the GPU, not ONNX Runtime
    monkeypatch.setattr(detector, "_device", found)
    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: True)
    monkeypatch.setenv(prec.ENV, "fp32")  # the desk's precision pin is fp32: ONNX Runtime is faster there
    assert cli._pick_runtime(_args(), iter([]))[0] == "auto"
    monkeypatch.setenv(prec.ENV, "half")  # a wrong pin is the model load's to report, as a wrong call
    assert cli._pick_runtime(_args(), iter([]))[0] == "auto"


def test_a_wrong_precision_pin_is_a_wrong_call(drafts, tiny_model_dir, monkeypatch, capsys):
    monkeypatch.setenv("CLAIMSIFT_PRECISION", "half")
    assert main(["score", str(drafts), "--model", str(tiny_model_dir)]) == 2
    assert "CLAIMSIFT_PRECISION='half'" in capsys.readouterr().err


def test_score_loads_torch_for_a_large_batch_and_scores_every_draft(drafts, tiny_model_dir, tmp_path, monkeypatch):
    from claimsift.model import precision as prec
    from claimsift.model import runtime as rt
    from claimsift.model.detector import ClaimDetector

    from claimsift import cli

    loaded = []
    real = ClaimDetector.from_pretrained.__func__

    def spy(cls, *a, **kw):
        det = real(cls, *a, **kw)
        if kw.get("precision") == "auto":  # the command line's call, not the ONNX export's own fp32 load
            loaded.append((kw.get("runtime"), det))
        return det

    monkeypatch.setattr(ClaimDetector, "from_pretrained", classmethod(spy))
    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: True)
    monkeypatch.delenv(prec.ENV, raising=False)  # the suite pins fp32, where ONNX Runtime always runs
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(small)]) == 0
    monkeypatch.setattr(cli, "TORCH_ABOVE_CHARS", 100)
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(large)]) == 0
    assert [kind for kind, _ in loaded] == ["onnx", "auto"]
    assert isinstance(loaded[0][1].net, rt.OnnxNet) and not isinstance(loaded[1][1].net, rt.OnnxNet)
    a, b = read_jsonl(small), read_jsonl(large)
    # every draft and sentence, in order; labels may differ, bf16 against fp32 on random weights
    assert [(r["doc"], r["text"]) for r in a] == [(r["doc"], r["text"]) for r in b]


def test_onnx_chosen_for_the_start_falls_back_to_torch(drafts, tiny_model_dir, tmp_path, monkeypatch, caplog):
    """Where the command line, not the user, picked ONNX Runtime and its graph cannot be built, the
    drafts are still scored, in torch, with a warning; asked for by name, the failure is reported."""
    from claimsift.model import detector
    from claimsift.model import precision as prec

    def no_graph(*a, **kw):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(detector, "_onnx_net", no_graph)
    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: True)
    monkeypatch.delenv(prec.ENV, raising=False)
    out, ref = tmp_path / "out.jsonl", tmp_path / "ref.jsonl"
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(out)]) == 0
    assert "ONNX Runtime path unavailable (exporter broke); running in torch" in caplog.text
    assert main(["score", str(drafts), "--model", str(tiny_model_dir), "--output", str(ref), "--runtime", "torch"]) == 0
    assert read_jsonl(out) == read_jsonl(ref)
    with pytest.raises(RuntimeError, match="exporter broke"):
        main(["score", str(drafts), "--model", str(tiny_model_dir), "--runtime", "onnx"])
