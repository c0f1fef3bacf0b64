"""Telltale's evaluation harness on the reference LM (issue 7, item 4).

run_eval.py is the entry point (`--reduced` for the test command, full mode
otherwise); harness.py generates and scores, stats.py holds the exact
binomial bound, empirical thresholds and ROC AUC, attacks.py the robustness
attacks, report.py the Markdown/PNG/JSON output. See docs/eval.md."""
