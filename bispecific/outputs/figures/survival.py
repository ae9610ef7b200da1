"""A trial's survival plot: Kaplan-Meier curves of OS and EFS by arm, 95% bands, numbers at
risk under each panel (lifelines draws the curves and the at-risk table)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .style import save

PANELS = (("os", "Overall survival"), ("efs", "Event-free survival"))


def survival_figure(events: pd.DataFrame, arms: Sequence[str], name: str, path: Path,
                    summary: pd.DataFrame | None = None,
                    formats: Sequence[str] = ("png",)) -> Path:
    """Kaplan-Meier OS and EFS by arm from per-patient events (`os_months`, `os_event`,
    `efs_months`, `efs_event`, `arm`); the median and hazard ratio from `summary` in the
    legend when given."""
    from lifelines import KaplanMeierFitter
    from lifelines.plotting import add_at_risk_counts

    fig = Figure(figsize=(12, 5.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (key, title) in zip(axes, PANELS, strict=True):
        fitters, labels = [], {}
        for i, arm in enumerate(arms):
            rows = events[events["arm"] == arm]
            if rows.empty:
                continue
            labels[arm] = _legend(arm, key, summary)
            kmf = KaplanMeierFitter(label=arm).fit(
                rows[f"{key}_months"], rows[f"{key}_event"].astype(bool))
            kmf.plot_survival_function(ax=ax, ci_show=True, show_censors=True, color=f"C{i}",
                                       censor_styles={"ms": 4, "marker": "|"})
            fitters.append(kmf)
        design = ""
        if summary is not None and "design" in summary and not summary.empty:
            design = f" ({summary['design'].iloc[0]})"
        ax.set_title(f"{title}: {name}{design}", loc="left", fontsize=10)
        ax.set_xlabel("months from the start of treatment")
        ax.set_ylabel("probability (95% band)")
        ax.set_ylim(0, 1.02)
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles, [labels.get(n, n) for n in names], fontsize=8, loc="upper right")
        if fitters:
            add_at_risk_counts(*fitters, ax=ax, rows_to_show=["At risk"], fig=fig)
    return save(fig, path, formats)[0]


def _legend(arm: str, key: str, summary: pd.DataFrame | None) -> str:
    """`arm: median 6.1 mo, HR 0.71 (0.55-0.93)` from the survival table, when given."""
    if summary is None:
        return arm
    s = summary[(summary["arm"] == arm) & (summary["endpoint"] == key)]
    if s.empty:
        return arm
    s = s.iloc[0]
    median = s["median_months"]
    text = f"{arm}: median " + ("not reached" if median == float("inf") else f"{median:.1f} mo")
    if pd.notna(s["hazard_ratio"]):
        text += f", HR {s['hazard_ratio']:.2f} ({s['hr_low']:.2f}-{s['hr_high']:.2f})"
    return text
