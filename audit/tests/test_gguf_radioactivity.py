"""The issue's reduced radioactivity check through the GGUF reading mode:
the cached students of the reduced experiment (datasets/radioactivity,
REDUCED: 60 AdamW steps on 100% watermarked / 100% clean teacher outputs,
kgw gamma=0.25 delta=2 h=1) exported to GGUF and audited with
`telltale audit model --gguf` on the same fresh watermarked texts as the
open-mode test:
  - 100% student, teacher key: p < 1e-6 (exit 0), controls > 1e-6;
  - wrong key on it: p > 1e-3 (exit 1);
  - clean student: p > 1e-3 (exit 1);
  - --early-stop reaches the target on fewer texts and still exits 0.
Students are trained only when the reduced experiment has not cached them;
their GGUF exports are cached beside them (keyed by the student's file).
ctest audit.gguf_radioactivity (slow; ~20 s warm).
"""
from __future__ import annotations

import os

import pytest
import torch

import gguf_common as gc

import experiment  # noqa: E402  (on sys.path through gguf_common)
import radio  # noqa: E402

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
P = experiment.REDUCED


def student_gguf(fraction: float) -> str:
    cfg = experiment.student_config(P, SCHEME, fraction)
    pt = radio.student_path(cfg)  # trains on first use
    out = pt[:-len(".pt")] + ".gguf"
    if not os.path.exists(out):
        from reflm import gguf_export
        import reflm
        state = torch.load(pt, map_location="cpu")
        gguf_export.export_state(state, reflm.metadata(), os.path.join(reflm.WEIGHTS_DIR, "tokenizer.model"), out,
                                 "f32")
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gguf_radio")
    texts = radio.audit_texts(SCHEME, P["audit_texts"], P["new_tokens"], P["temperature"], P["seed"])
    keys = {}
    for name, k in (("teacher", radio.teacher_key()), ("wrong", radio.wrong_key())):
        keys[name] = str(d / f"{name}.key")
        k.save(keys[name])
    return dict(tokens=gc.write_tokens(str(d / "audit.tok"), texts), keys=keys, n=len(texts))


def test_watermarked_student_is_radioactive_through_gguf(files):
    gguf = student_gguf(1.0)
    rc, j, err = gc.run_gguf(gguf, files["keys"]["teacher"], SCHEME, "--tokens", files["tokens"], "--controls", "2")
    assert rc == 0, err
    assert j["log10_p"] < -6 and j["detected"], j
    assert all(k["log10_p"] > -6 for k in j["keys"] if k["control"]), j
    assert j["texts"] == files["n"] and j["texts_to_target"] is not None
    print(f"100% student: log10 p {j['log10_p']:.2f} on {j['unique_tuples']} tuples, "
          f"target after {j['texts_to_target']} texts")
    rc, w, err = gc.run_gguf(gguf, files["keys"]["wrong"], SCHEME, "--tokens", files["tokens"], "--controls", "1")
    assert rc == 1, err
    assert w["log10_p"] > -3, w
    rc, e, err = gc.run_gguf(gguf, files["keys"]["teacher"], SCHEME, "--tokens", files["tokens"], "--early-stop")
    assert rc == 0, err
    assert e["texts"] < files["n"] and e["looks"] >= 1 and e["log10_p"] <= -6, e


def test_clean_student_is_not_through_gguf(files):
    rc, j, err = gc.run_gguf(student_gguf(0.0), files["keys"]["teacher"], SCHEME, "--tokens", files["tokens"],
                             "--controls", "1")
    assert rc == 1, err
    assert j["log10_p"] > -3, j
