"""Pictures of the grid at chosen times, captured during a run (a `StepReadout`).

Each snapshot stores, per voxel: what it holds (empty, CD19+ blast, CD19- blast, T cell, T
cell in synapse, normal marrow cell), the blast's CD19 copies, and the drug molecules held
by the cell there (free drug is a well-mixed pool, the same everywhere). Memory is a few bytes per
voxel per snapshot; `save`/`load` keep them in a compressed .npz beside the run's outputs.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..engine.core.state import BLAST, LYTIC, NORMAL, TCELL
from .timed import TimedRecorder

if TYPE_CHECKING:
    from ..engine.facade.model import BispecificModel

# Voxel codes in a snapshot.
EMPTY_VOXEL = 0
BLAST_CD19_POSITIVE = 1
BLAST_CD19_NEGATIVE = 2
T_CELL = 3
T_CELL_IN_SYNAPSE = 4
NORMAL_CELL = 5


def capture(model: BispecificModel) -> dict[str, np.ndarray]:
    """One snapshot of the model's grid, as arrays shaped (height, width)."""
    s = model.state
    shape = (s.height, s.width)
    code = np.zeros(s.voxels, np.uint8)
    cd19 = np.zeros(s.voxels, np.float32)
    blast_voxels = s.occ_kind == BLAST
    slots = s.occ_idx[blast_voxels]
    cd19[blast_voxels] = s.b_cd19[slots]
    code[blast_voxels] = np.where(s.b_cd19[slots] > 0, BLAST_CD19_POSITIVE, BLAST_CD19_NEGATIVE)
    t_voxels = s.occ_kind == TCELL
    engaged = s.t_engaged[s.occ_idx[t_voxels]] >= LYTIC
    code[t_voxels] = np.where(engaged, T_CELL_IN_SYNAPSE, T_CELL)
    code[s.occ_kind == NORMAL] = NORMAL_CELL
    # A molecule sits on its blast (single arm or trimer) or, held by CD3 alone, its T cell.
    nb, nt = s.n_blasts, s.n_tcells
    on_blast = s.b_bound[:nb] * s.b_alive[:nb]
    on_tcell = (s.t_bound[:nt] - s.t_trimers[:nt]) * s.t_alive[:nt]
    where = np.concatenate([s.b_voxel[:nb], s.t_voxel[:nt]])
    weights = np.concatenate([on_blast, on_tcell]).astype(np.float64)
    live = where >= 0
    molecules = np.minimum(np.bincount(where[live], weights=weights[live], minlength=s.voxels),
                           65535).astype(np.uint16)
    return {"code": code.reshape(shape), "cd19": cd19.reshape(shape),
            "molecules": molecules.reshape(shape)}


class SnapshotRecorder(TimedRecorder):
    """Captures the grid at given times (hours); time 0 is captured at once if listed."""

    def take(self, model: BispecificModel) -> tuple[float, dict[str, np.ndarray]]:
        return (model.time_h, capture(model))

    def encode(self, item: tuple[float, dict[str, np.ndarray]]) -> list:
        return [item[0], item[1]]

    def decode(self, stored: list) -> tuple[float, dict[str, np.ndarray]]:
        return (stored[0], dict(stored[1]))


def save_snapshots(taken: list[tuple[float, dict[str, np.ndarray]]], path: Path) -> None:
    """A compressed .npz (numpy.load reads it) whose bytes depend on the arrays alone."""
    arrays: dict[str, np.ndarray] = {"times_h": np.array([t for t, _ in taken])}
    for i, (_, snap) in enumerate(taken):
        for name, arr in snap.items():
            arrays[f"{name}_{i}"] = arr
    save_npz(path, arrays)


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like numpy.savez_compressed, but each member is dated 1980-01-01, not now: numpy
    stamps the time of writing, so the same arrays written twice would differ."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, arr in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)


def load_snapshots(path: Path) -> list[tuple[float, dict[str, np.ndarray]]]:
    with np.load(path) as data:
        times = data["times_h"]
        return [(float(t), {name: data[f"{name}_{i}"] for name in ("code", "cd19", "molecules")})
                for i, t in enumerate(times)]
