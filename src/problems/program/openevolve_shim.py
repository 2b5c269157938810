"""ratchet's shim for evaluators written for OpenEvolve (docs/migrating.md).

ratchet runs it inside the evaluator's sandbox as

    /usr/bin/python3 ratchet_openevolve.py EVALUATOR.py candidate.EXT

where EVALUATOR.py is the user's file, unchanged: a module defining evaluate(program_path) and,
optionally, evaluate_stage1 .. evaluate_stage3. It imports the module, calls the function of the
stage ratchet asks for (RATCHET_STAGE of RATCHET_STAGES), and prints on its last line the one
JSON object of ratchet's evaluator contract:

    {"score": S, "metrics": {...}, "artifacts": {...}}

S is the metrics' "combined_score" when it is a finite number, else the mean of the numeric
metrics that are not MAP-Elites features (RATCHET_FEATURE_NAMES, comma-separated), as OpenEvolve
ranks programs. Anything the module prints goes to stderr, so that it can never be taken for the
report. An exception, or a result that is neither a dict nor an object with .metrics, exits 1:
a failed evaluation, with the traceback in its stored stderr.
"""

import importlib.util
import json
import math
import os
import sys
import traceback
import types
from dataclasses import dataclass, field


@dataclass
class EvaluationResult:
    """Stands in for openevolve.evaluation_result.EvaluationResult when OpenEvolve is absent."""

    metrics: dict
    artifacts: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, metrics):
        return cls(metrics=metrics)

    def to_dict(self):
        return self.metrics

    def has_artifacts(self):
        return bool(self.artifacts)


def provide_openevolve():
    """Lets `from openevolve.evaluation_result import EvaluationResult` work without OpenEvolve."""
    try:
        import openevolve.evaluation_result  # noqa: F401  (the real one, if installed)
        return
    except ImportError:
        pass
    package = types.ModuleType("openevolve")
    package.__path__ = []
    module = types.ModuleType("openevolve.evaluation_result")
    module.EvaluationResult = EvaluationResult
    package.evaluation_result = module
    sys.modules["openevolve"] = package
    sys.modules["openevolve.evaluation_result"] = module


def plain(value, depth=0):
    """A JSON-safe copy: numbers stay numbers (NaN and infinities become null), bytes become
    text, containers are copied, anything else becomes its str()."""
    if depth > 20:
        return str(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return plain(value.item(), depth + 1)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    return str(value)


def number(value):
    """value as a finite float, or None (booleans and text are not scores)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def score_of(metrics, features):
    combined = number(metrics.get("combined_score"))
    if combined is not None:
        return combined
    values = [number(v) for k, v in metrics.items() if k not in features]
    values = [v for v in values if v is not None]
    if not values:
        values = [v for v in (number(v) for v in metrics.values()) if v is not None]
    if not values:
        raise ValueError("the evaluator's metrics hold no finite number to score")
    return sum(values) / len(values)


def stage_function(module, stage, stages):
    """evaluate_stageK for stage K of a cascade when the module has it, else evaluate."""
    if stages > 1:
        staged = getattr(module, "evaluate_stage%d" % stage, None)
        if callable(staged):
            return staged
    full = getattr(module, "evaluate", None)
    if not callable(full):
        raise AttributeError("the evaluator defines no evaluate(program_path)")
    return full


def load(path):
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # its own helper modules, as OpenEvolve allows
    spec = importlib.util.spec_from_file_location("evaluation_module", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["evaluation_module"] = module
    spec.loader.exec_module(module)
    return module


def evaluate(path, candidate):
    stage = int(os.environ.get("RATCHET_STAGE", "1"))
    stages = int(os.environ.get("RATCHET_STAGES", "1"))
    features = set(filter(None, os.environ.get("RATCHET_FEATURE_NAMES", "").split(",")))
    provide_openevolve()
    function = stage_function(load(path), stage, stages)
    result = function(os.path.abspath(candidate))
    if isinstance(result, dict):
        metrics, artifacts = result, {}
    elif hasattr(result, "metrics") and isinstance(result.metrics, dict):
        metrics, artifacts = result.metrics, getattr(result, "artifacts", None) or {}
    else:
        raise TypeError("%s() returned %s, not a dict or an EvaluationResult"
                        % (function.__name__, type(result).__name__))
    report = {"score": score_of(metrics, features), "metrics": plain(metrics)}
    if artifacts:
        report["artifacts"] = plain(dict(artifacts))
    return report


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: ratchet_openevolve.py EVALUATOR.py CANDIDATE\n")
        return 2
    report_fd = os.dup(1)
    os.dup2(2, 1)  # the module's prints, and its children's, go to stderr
    try:
        report = evaluate(sys.argv[1], sys.argv[2])
    except Exception:  # the user's evaluator failed: a failed evaluation, with its traceback
        traceback.print_exc()
        return 1
    sys.stdout.flush()
    line = json.dumps(report, allow_nan=False, sort_keys=True) + "\n"
    os.write(report_fd, line.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
