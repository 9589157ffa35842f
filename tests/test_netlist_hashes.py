"""Calibration provenance: netlist hashes name the circuit and its models, not the machine's folders."""

from __future__ import annotations

from calibration.pipeline import _hash
from netlists import SimParams, blocks, get_technology


def test_hash_does_not_depend_on_the_cache_folder(tmp_path, monkeypatch):
    texts = []
    for folder in ("a", "b"):
        monkeypatch.setenv("LOGDOMAIN_CACHE_DIR", str(tmp_path / folder))
        texts.append(blocks.nmos_iv(get_technology("sky130")).text(SimParams()))
    assert texts[0] != texts[1]  # the include path names the cache folder ...
    assert _hash(texts[0]) == _hash(texts[1])  # ... the hash does not


def test_hash_follows_model_content_but_not_comments(tmp_path):
    model = tmp_path / "m.lib"
    text = f'* title\n.include "{model}"\nm1 d g 0 0 nch w=1u l=1u\n.end\n'
    model.write_text("* a model\n.model nch nmos level=1 vto=0.5\n")
    first = _hash(text)
    model.write_text("* the same model, another comment\n.model nch nmos level=1 vto=0.5\n")
    assert _hash(text) == first
    model.write_text("* a model\n.model nch nmos level=1 vto=0.6\n")
    assert _hash(text) != first
