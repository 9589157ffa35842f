"""The layout shows the architecture (shared/DESIGN.md §1, issue 13 item 7).

Data flows netlists → calibration → logdomain, never back, and the command-line layer
(``logdomain/cli/``) is imported by nothing in the library. Read from the source with ``ast`` (every
import statement, also those inside functions), so a lazy import cannot hide a back edge. Where the
library keeps a hand-written version of something scikit-learn does, the result is checked equal.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error
from sklearn.preprocessing import MaxAbsScaler

from logdomain.metrics import mse
from logdomain.scaling import MaxAbsScaling

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    module_parts = path.relative_to(ROOT).with_suffix("").parts
    if module_parts[-1] == "__init__":
        module_parts = module_parts[:-1]
        base = list(module_parts)
    else:
        base = list(module_parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(anchor)
                target = f"{prefix}.{node.module}" if node.module else prefix
                names.add(target)
                if not node.module:
                    names.update(f"{prefix}.{alias.name}" for alias in node.names)
            else:
                names.add(node.module or "")
    return names


def _sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources found under {package}/"
    return files


@pytest.mark.parametrize(("package", "forbidden"), [("netlists", ("calibration", "logdomain")),
                                                   ("calibration", ("logdomain",))])
def test_data_flows_one_way(package, forbidden):
    back_edges = [f"{p.relative_to(ROOT)} imports {name}" for p in _sources(package)
                  for name in _imported_modules(p, package) if name.split(".")[0] in forbidden]
    assert not back_edges, back_edges


def test_the_library_does_not_import_the_command_line_layer():
    library = [p for p in _sources("logdomain") if "cli" not in p.relative_to(ROOT / "logdomain").parts[:1]]
    assert len(library) > 10
    edges = [f"{p.relative_to(ROOT)} imports {name}" for p in library
             for name in _imported_modules(p, "logdomain") if name == "logdomain.cli" or name.startswith("logdomain.cli.")]
    assert not edges, edges


def test_command_modules_live_in_the_cli_subpackage():
    stray = sorted(p.name for p in (ROOT / "logdomain").glob("*.py") if p.name.startswith(("cli", "cmd_")))
    assert not stray, stray
    assert (ROOT / "logdomain" / "cli" / "__main__.py").is_file()


def test_import_scan_sees_relative_and_lazy_imports(tmp_path):
    """The scanner itself: a lazy relative import two levels up is resolved."""
    names = _imported_modules(ROOT / "logdomain" / "cli" / "train.py", "logdomain")
    assert "logdomain.compare" in names  # imported inside cmd_compare, relative (..compare)
    assert "logdomain.cli._checks" in names


def test_scaling_factors_are_sklearns_maxabsscaler():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4)) * np.array([1.0, 30.0, 1e-3, 0.0])
    y = rng.normal(size=50) * 7.0
    scaling = MaxAbsScaling.fit(x, y)
    np.testing.assert_allclose(scaling.x_scale, MaxAbsScaler().fit(x).scale_, rtol=1e-15)
    assert scaling.x_scale[3] == 1.0  # an all-zero column keeps scale 1
    assert scaling.y_scale == pytest.approx(np.max(np.abs(y)), rel=1e-15)
    np.testing.assert_allclose(scaling.transform_x(x), MaxAbsScaler().fit_transform(x), rtol=1e-15, atol=0)


def test_mse_equals_sklearns_for_one_run_and_batches_runs():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.normal(size=40), rng.normal(size=(3, 40))
    assert mse(y_true, y_pred[0]) == pytest.approx(mean_squared_error(y_true, y_pred[0]), rel=1e-12)
    batched = mse(np.broadcast_to(y_true, y_pred.shape), y_pred)
    np.testing.assert_allclose(batched, [mean_squared_error(y_true, p) for p in y_pred], rtol=1e-12)
