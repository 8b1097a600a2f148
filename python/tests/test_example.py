"""examples/python/support.py runs as the docs say, and its journal is the CLI's."""

import json
import subprocess
import sys

from conftest import EXAMPLES


def test_the_python_example_reroutes_around_stripe_and_its_journal_reads_in_the_cli(tmp_path, cli):
    db = str(tmp_path / "support.db")
    out = subprocess.run([sys.executable, str(EXAMPLES / "python" / "support.py"), db],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "status: completed" in lines
    assert "route: Start -> CRM -> Razorpay -> Email -> Complete" in lines
    assert "failed: Stripe: Stripe: ConnectionError: Stripe is down" in lines
    assert "20 runs at once: 20 completed" in lines
    runs = subprocess.run([cli, "runs", "--journal", db, "--json"], check=True, capture_output=True,
                          text=True).stdout
    assert json.dumps(json.loads(runs)).count("python-support") >= 21
