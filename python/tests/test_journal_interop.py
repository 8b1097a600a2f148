"""One journal, two programs: runs written from Python are read by the `switchyard` program and
the other way round; a run left running by a dead process is resumed from Python."""

import json
import subprocess
import sys
import os
import textwrap

import switchyard
from conftest import EXAMPLES, register_support_tools


def test_a_journal_written_from_python_is_read_by_the_cli(support_workflow, tmp_path, cli):
    db = str(tmp_path / "py.db")
    with switchyard.Runtime(journal=db, threads=2) as rt:
        register_support_tools(rt)
        result = rt.run(support_workflow, input={"customer": "ada"})
    runs = json.loads(subprocess.run([cli, "runs", "--journal", db, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    text = json.dumps(runs)
    assert result.run_id in text and "customer-support-py" in text
    verify = subprocess.run([cli, "replay", result.run_id, "--journal", db, "--verify", "--json"],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["verify"]["ok"] is True
    replay = json.loads(subprocess.run([cli, "replay", result.run_id, "--journal", db, "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    assert [e["type"] for e in replay["events"]] == [e.type for e in switchyard.Runtime(journal=db).events(result.run_id)]


def test_a_journal_written_by_the_cli_is_read_from_python(tmp_path, cli):
    db = str(tmp_path / "cli.db")
    out = subprocess.run([cli, "run", str(EXAMPLES / "customer-support.json"), "--journal", db, "--json"],
                         check=True, capture_output=True, text=True).stdout
    run_id = json.loads(out)["run_id"]
    with switchyard.Runtime(journal=db) as rt:
        runs = rt.runs()
        assert [r.run_id for r in runs] == [run_id]
        assert runs[0].workflow == "customer-support" and runs[0].status == "completed"
        assert rt.verify(run_id).ok
        assert "Razorpay" in rt.replay(run_id)
        # and Python adds runs to the same file
        result = rt.run(switchyard.Workflow.from_file(str(EXAMPLES / "customer-support.json")))
        assert result.status == "completed" and len(rt.runs()) == 2


def test_resume_all_continues_a_run_whose_process_died(tmp_path):
    db = tmp_path / "crash.db"
    script = textwrap.dedent(
        f"""
        import json, os, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import switchyard
        from conftest import support_document, register_support_tools
        rt = switchyard.Runtime(journal={str(db)!r}, threads=1)
        register_support_tools(rt)
        @rt.tool("notify")
        def notify(ctx):
            os._exit(9)  # the process dies in the middle of the run
        rt.run(switchyard.Workflow.from_json(json.dumps(support_document())), input={{"customer": "ada"}},
               run_id="r-py-crashed")
        """
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    with switchyard.Runtime(journal=str(db), threads=1) as rt:
        register_support_tools(rt)
        assert rt.get_run("r-py-crashed").status == "running"
        ended = rt.resume_all()
        assert [r.run_id for r in ended] == ["r-py-crashed"]
        # Email/SMS are not idempotent: the call in flight at the crash is in doubt
        assert ended[0].status in ("completed", "escalated")
        assert rt.get_run("r-py-crashed").status == ended[0].status
        assert rt.resume_all() == []
        calls = [e.payload["tool"] for e in rt.events("r-py-crashed") if e.type == "step_succeeded"]
        assert calls.count("CRM") == 1  # not run again
