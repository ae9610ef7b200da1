"""Pharmacology: from a dosing schedule to the plasma drug concentration over time.

Owns dosing schedules (infusions, boluses, repeats, cycles, interruptions, per-m^2 doses) and
the published one-compartment population PK model, solved exactly between dose events.

May import: `bispecific.units`.
"""
