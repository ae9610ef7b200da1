"""Tables for the next tool: each column's unit, and Parquet copies of the CSV tables.

Parquet needs pyarrow (the `data` extra: `pip install -e ".[data]"`); without it the CSV
tables are written alone and the command says so. A Parquet file carries the units twice:
as each field's `unit` metadata and as the JSON map `bispecific.units` in the schema's
metadata, which `load.py` reads back into `DataFrame.attrs["units"]`.
"""

from __future__ import annotations

import json
import os
from importlib.util import find_spec
from pathlib import Path

import pandas as pd

UNITS_KEY = "bispecific.units"

# Whole names first, then endings, then beginnings; the first rule that fits gives the unit.
_NAMED = {
    "patient": "", "seed": "", "arm": "", "scenario": "", "error": "", "RunId": "",
    "iteration": "", "Step": "step", "bispecific_version": "", "dexamethasone": "",
    "mean_t_cell_exhaustion": "1 (0 fresh to 1 exhausted)",
    "blast_log10_reduction": "log10", "median_log10_reduction": "log10",
    "ID": "", "TIME": "h", "AMT": "ug", "RATE": "ug/h", "DUR": "h", "EVID": "", "CMT": "",
    "II": "h", "ADDL": "", "SS": "", "patients": "count", "complete_response": "true/false",
    "initial_effector_target_ratio": "1 (T cells per blast)", "blast_enrichment": "1 (x)",
    "cd19_median_copies": "copies per cell", "marrow_blast_percent_at_assessments": "%",
    "final_blasts_cd19_negative_expected": "count",
}
_ENDINGS = (
    ("_pg_per_ml", "pg/mL"), ("_ug_per_m2_per_day", "ug/m^2/day"), ("_ug_per_day", "ug/day"),
    ("_l_per_h", "L/h"), ("_per_day", "1/day"), ("_per_min", "1/min"), ("_m2", "m^2"),
    ("_kg", "kg"), ("_percent", "%"), ("_fraction", "1 (fraction)"), ("_rate", "1 (share)"),
    ("_rate_low", "1 (share)"), ("_rate_high", "1 (share)"), ("_days", "day"),
    ("_day", "day"), ("_h", "h"), ("_l", "L"), ("_um", "um"), ("_limit", "1 (fraction)"),
    ("_estimate", "1 (fraction)"), ("_censored", "true/false"),
)
_BEGINNINGS = (("p_", "1 (probability)"), ("crs_p_", "1 (probability)"))
_COUNTS = ("blasts", "t_cells", "normal_cells", "kills", "synapses", "trimers", "molecules",
           "kills_per_t_cell")


def column_unit(name: str) -> str:
    """The unit of a column of bispecific's tables ('' for labels and counts' kin; 'count'
    for numbers of cells, molecules or events)."""
    if name in _NAMED:
        return _NAMED[name]
    for begin, unit in _BEGINNINGS:
        if name.startswith(begin):
            return unit
    for end, unit in _ENDINGS:
        if name.endswith(end):
            return unit
    if any(name.endswith(c) or name.startswith(c) for c in _COUNTS):
        return "count"
    return ""


def units_of(frame: pd.DataFrame) -> dict[str, str]:
    """Each column's unit (see `column_unit`)."""
    return {str(c): column_unit(str(c)) for c in frame.columns}


def parquet_available() -> bool:
    """Whether Parquet files can be written (pyarrow is installed)."""
    return find_spec("pyarrow") is not None


def write_parquet(frame: pd.DataFrame, path: Path) -> bool:
    """Write `frame` as Parquet with its units, via a temporary file and a rename; False (and
    nothing written) without pyarrow."""
    if not parquet_available():
        return False
    import pyarrow as pa
    import pyarrow.parquet as pq

    units = units_of(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [f.with_metadata({"unit": units.get(f.name, "")}) for f in table.schema]
    metadata = dict(table.schema.metadata or {})
    metadata[UNITS_KEY.encode()] = json.dumps(units).encode()
    table = table.cast(pa.schema(fields, metadata=metadata))
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
