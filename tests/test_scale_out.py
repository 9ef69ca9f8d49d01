"""Scale-out: the detector inside ``datasets.Dataset.map`` and in several processes."""

import multiprocessing as mp
import pickle

import pytest

from claimsift import ClaimDetector

# the library's default is ONNX Runtime on a CPU without native bf16 (and under the suite's fp32 pin), PyTorch
# elsewhere: scale-out is checked in both
RUNTIMES = pytest.mark.parametrize("runtime", ["onnx", "torch"])

SENTENCES = ["Prices rose 3% on Monday.", "Analysts say they may fall.", "Share this story!",
             "Mayor Ruth Ong said the plan was sound.", "It could rain tomorrow.", "The court ruled on Friday."]


def _score(args):
    folder, texts, runtime = args
    det = ClaimDetector.from_pretrained(folder, device="cpu", runtime=runtime)
    return [r.label for r in det.classify(texts)], [r.confidence for r in det.classify(texts)]


@RUNTIMES
def test_dataset_map_batched_matches_classify(tiny_model_dir, runtime):
    from datasets import Dataset

    det = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime=runtime)
    ds = Dataset.from_dict({"text": SENTENCES, "doc": ["a"] * 3 + ["b"] * 3})
    mapped = ds.map(det.map_batch, batched=True, batch_size=3, fn_kwargs={"doc_column": "doc"})
    direct = det.classify(SENTENCES[:3]) + det.classify(SENTENCES[3:])
    assert mapped["label"] == [r.label for r in direct]
    assert all(abs(a - r.confidence) < 1e-6 for a, r in zip(mapped["confidence"], direct, strict=True))


@RUNTIMES
def test_several_processes_give_the_same_results(tiny_model_dir, runtime):
    jobs = [(str(tiny_model_dir), SENTENCES, runtime)] * 2
    with mp.get_context("spawn").Pool(2) as pool:
        (labels_a, conf_a), (labels_b, conf_b) = pool.map(_score, jobs)
    here = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime=runtime).classify(SENTENCES)
    assert labels_a == labels_b == [r.label for r in here]
    assert all(abs(a - b) < 1e-6 for a, b in zip(conf_a, conf_b, strict=True))


def test_a_detector_in_use_pickles_without_its_threads(tiny_model_dir):
    """``Dataset.map(num_proc=...)`` pickles the detector into each process, also after it has scored:
    its lane threads stay behind and the copy starts its own."""
    det = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime="torch")  # lanes: torch only
    before = det.classify(SENTENCES)
    assert det._lane_pool is not None
    copy = pickle.loads(pickle.dumps(det))
    assert copy._lane_pool is None and det._lane_pool is not None
    assert [r.to_dict() for r in copy.classify(SENTENCES)] == [r.to_dict() for r in before]
    assert copy._lane_pool is not None and copy._lane_pool is not det._lane_pool
