"""evaluator.py — the evaluator of ratchet's OpenEvolve-style example, in OpenEvolve's contract.

ratchet runs it unchanged through its shim (docs/migrating.md): evaluate(program_path) returns a
dict of metrics with "combined_score"; evaluate_stage1 (a cheap first stage, used with
--cascade 2) returns an EvaluationResult with metrics and artifacts. Deterministic, so the
re-run that ratchet's gate does without a verifier reproduces the score exactly.
"""
import importlib.util
import math

from openevolve.evaluation_result import EvaluationResult

# (integrand, a, b, exact value)
CASES = [
    (math.exp, 0.0, 1.0, math.e - 1.0),
    (math.sin, 0.0, math.pi, 2.0),
    (lambda x: 1.0 / (1.0 + x * x), 0.0, 1.0, math.pi / 4.0),
]


def load(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(program, cases):
    """The largest absolute error over cases and the number of calls of the integrands."""
    calls = 0
    worst = 0.0

    def counted(f):
        def g(x):
            nonlocal calls
            calls += 1
            return f(x)
        return g

    for f, a, b, exact in cases:
        value = float(program.integrate(counted(f), a, b))
        if not math.isfinite(value):
            raise ValueError("integrate returned %r" % value)
        worst = max(worst, abs(value - exact))
    return worst, calls


def evaluate(program_path):
    worst, calls = measure(load(program_path), CASES)
    digits = min(16.0, -math.log10(worst + 1e-16))
    print("max error %.3g with %d calls" % (worst, calls))  # a log line, not the report
    return {
        "combined_score": digits - 0.05 * calls,
        "digits": digits,
        "calls": calls,
        "max_error": worst,
    }


def evaluate_stage1(program_path):
    worst, calls = measure(load(program_path), CASES[:1])
    digits = min(16.0, -math.log10(worst + 1e-16))
    return EvaluationResult(
        metrics={"combined_score": digits - 0.05 * 3 * calls, "digits": digits},
        artifacts={"stage1": "exp on [0, 1] only: error %.3g" % worst},
    )
