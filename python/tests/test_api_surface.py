"""The package's surface: the type stubs describe what the module has, and the Runtime's options
are checked."""

import ast
import pathlib

import pytest

import switchyard


def stub_tree():
    return ast.parse((pathlib.Path(switchyard.__file__).parent / "__init__.pyi").read_text())


def test_the_type_stubs_name_every_public_class_and_runtime_method():
    classes = {n.name: n for n in stub_tree().body if isinstance(n, ast.ClassDef)}
    assert set(switchyard.__all__) <= set(classes)
    for name in ("Runtime", "RunHandle", "Workflow"):
        stubbed = {f.name for f in classes[name].body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
        public = {m for m in dir(getattr(switchyard, name)) if not m.startswith("_")}
        assert public <= stubbed, f"{name}: not in the stubs: {sorted(public - stubbed)}"
    runtime_stub = {f.name: f for f in classes["Runtime"].body if isinstance(f, ast.AsyncFunctionDef)}
    assert "run_async" in runtime_stub


def test_model_tiers_are_checked_when_the_runtime_opens(tmp_path):
    with pytest.raises(switchyard.InvalidArgumentError):
        switchyard.Runtime(models=[{"name": "", "model": "m", "base_url": "http://127.0.0.1:1"}])
    with pytest.raises(ValueError, match="unknown field 'price'"):
        switchyard.Runtime(models=[{"name": "cheap", "price": 1}])
    with pytest.raises(switchyard.LoadError) as missing:
        switchyard.Runtime(models=str(tmp_path / "models.json"))
    assert missing.value.file.endswith("models.json")
    bad = tmp_path / "bad-models.json"
    bad.write_text('{"tiers": 3}')
    with pytest.raises(switchyard.LoadError) as load:
        switchyard.Runtime(models=str(bad))
    assert load.value.pointer.startswith("/")
    tiers = [{"name": "cheap", "model": "m", "base_url": "http://127.0.0.1:1", "timeout_ms": 100}]
    with switchyard.Runtime(models=tiers) as rt:
        assert rt.runs() == []


def test_bad_arguments_are_errors_before_anything_runs():
    with switchyard.Runtime(threads=1) as rt:
        with pytest.raises(TypeError):
            rt.add_tool("x", 42)
        with pytest.raises(switchyard.InvalidArgumentError):
            rt.add_tool("", lambda ctx: {})
        with pytest.raises(switchyard.InvalidArgumentError, match="status"):
            rt.runs(status="nope")
        w = switchyard.Workflow.from_json(
            '{"format": "switchyard.workflow/v1", "name": "m", "start": "Start", "goal": "T",'
            ' "tools": {"T": {"kind": "mock"}}, "edges": [["Start", "T", 1]]}')
        with pytest.raises(switchyard.InvalidArgumentError, match="input"):
            rt.run(w, input={"when": object()})
        with pytest.raises(TypeError):
            rt.run(w, budget="lots")
        assert rt.run(w, budget={"usd": 1}).status == "completed"


def test_health_poll_reaches_the_runtime_in_whole_milliseconds_and_bad_periods_are_refused(monkeypatch):
    opened = []
    real_open = switchyard._runtime._native.Runtime.open

    def spy(*args):
        opened.append(args[-1])  # health_poll_ms, the last argument
        return real_open(*args)

    monkeypatch.setattr(switchyard._runtime._native.Runtime, "open", spy)
    for seconds, ms in ((0.25, 250), (0, 0), (2, 2000)):
        with switchyard.Runtime(health_poll=seconds) as rt:
            assert rt.runs() == []
        assert opened[-1] == ms
    with switchyard.Runtime() as rt:
        pass
    assert opened[-1] == 200  # the default: RuntimeOptions::health_poll's
    for bad in (-1, -0.5, float("nan"), float("inf"), 0.0001):
        with pytest.raises(ValueError, match="health_poll"):
            switchyard.Runtime(health_poll=bad)
    for bad in ("200ms", None, True):
        with pytest.raises(TypeError, match="health_poll"):
            switchyard.Runtime(health_poll=bad)
    assert len(opened) == 4  # no runtime was opened for a refused period
