"""The committed stubs in shopsync/v1 are exactly what protos/ generates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_fresh(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "tools" / "gen_protos.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.generate(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(ROOT): p.read_bytes() for p in (ROOT / "shopsync").rglob("*")
                 if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", ".binpb"))}
    assert fresh, "protoc generated nothing"
    assert set(fresh) == set(committed), "stub files differ from protos/: run `make protos`"
    stale = [str(k) for k in fresh if fresh[k] != committed[k]]
    assert not stale, f"stale stubs (run `make protos`): {stale}"
