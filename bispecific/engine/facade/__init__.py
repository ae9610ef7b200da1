"""The Mesa facade: `BispecificModel` (a `mesa.Model` over the array core), its agents as
views of the arrays (`agents.py`), a read-only grid (`space.py`), removal through the arrays
(`removal.py`, and `cytotoxic.py` for a chemotherapy course), a DataCollector read by step
(`records.py`), what differs between Mesa versions (`mesa_compat.py`), and the kernels'
compilation ahead of use (`warmup.py`).

Imports the core (`bispecific.engine.core`), never the reference twin.
"""
