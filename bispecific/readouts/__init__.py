"""Readouts: what is measured from the patch as it runs, in clinical terms.

Owns plasma cytokines (driven by the engine's synapses and scaled to the patient), the CRS
readout, tumour response (marrow blast percentage, complete response, depth) and grid
snapshots. Readouts observe a running `BispecificModel` through the step-observer protocol;
the engine never imports them.

May import: `bispecific.units`, `bispecific.engine`.
"""
