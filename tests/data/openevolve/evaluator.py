"""A test evaluator in OpenEvolve's contract (tests/test_openevolve.c): the candidate is a Python
file that sets VALUE; what evaluate() returns depends on MODE, which the candidate sets too, so
that one run meets every kind of result. It imports EvaluationResult as OpenEvolve's evaluators
do (ratchet's shim provides it when OpenEvolve is not installed)."""
import importlib.util
import math

from openevolve.evaluation_result import EvaluationResult


def load(path):
    spec = importlib.util.spec_from_file_location("candidate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate(program_path):
    program = load(program_path)
    mode = getattr(program, "MODE", "dict")
    value = float(program.VALUE)
    print('{"score": 1e9}')  # a log line that looks like a report: must not be taken for one
    metrics = {"combined_score": value, "value": value, "note": "text metrics are kept",
               "nan_metric": float("nan"), "which": "evaluate"}
    if mode == "result":
        return EvaluationResult(metrics=metrics,
                                artifacts={"log": "an artifact", "raw": b"bytes \xff"})
    if mode == "raise":
        raise RuntimeError("the evaluator failed on purpose")
    if mode == "list":
        return [value]
    if mode == "nocombined":
        return {"a": 1.0, "b": 3.0, "feat": 100.0, "label": "x"}
    return metrics


def evaluate_stage1(program_path):
    return {"combined_score": float(load(program_path).VALUE), "which": "stage1"}


def evaluate_stage3(program_path):
    value = float(load(program_path).VALUE)
    return {"combined_score": value, "which": "stage3", "value": value}
