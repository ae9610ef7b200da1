"""The model's DataCollector: records every few steps, read by step as Mesa reads it.

The model records its reporters every `record_every_minutes` (hourly by default), not every
step: a record costs more than a step of the kernels. `StepRecords` keeps the records as
taken and answers `mesa.batch_run` the way the installed Mesa reads them
(`mesa_compat.BATCH_RUN_READS_RECORDS`):

- Mesa 3.1-3.3 reads `datacollector.model_vars[name][step]`, assuming a record per step:
  `model_vars[name]` is a sequence over the steps run so far (0 to `model.steps`), entry `k`
  the value recorded at the last record at or before step `k` (a record's `time_h` column
  says when it was taken);
- Mesa 3.4+ reads `model_vars[name][i]` as the i-th record, taken at step
  `datacollector._collection_steps[i]`: `model_vars[name]` is then the records as taken;
- `get_model_vars_dataframe()` is one row per record, indexed by the step it was taken at;
- the model's summary readouts (`model.summary()`, one value per run, e.g. the log10
  reduction of blasts) are also in `model_vars`, the same at every entry: they describe the
  run as it stands when read, so `batch_run`, which reads after the run, gets the summary
  of the whole run on every row.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import mesa
import pandas as pd

from .mesa_compat import BATCH_RUN_READS_RECORDS


class StepSeries(Sequence):
    """One reporter's records, indexed by step (see the module docstring)."""

    def __init__(self, values: list, steps: list[int], clock: Callable[[], int]) -> None:
        self._values = values
        self._steps = steps
        self._clock = clock

    def append(self, value: Any) -> None:  # how Mesa's DataCollector.collect stores a record
        self._values.append(value)

    @property
    def records(self) -> list:
        """The values as recorded, one per record."""
        return self._values

    def __len__(self) -> int:
        if BATCH_RUN_READS_RECORDS:
            return len(self._values)
        return self._clock() + 1 if self._values else 0

    def __getitem__(self, step: int | slice) -> Any:
        if BATCH_RUN_READS_RECORDS:  # by record (Mesa 3.4+)
            return self._values[step]
        if isinstance(step, slice):
            return [self[k] for k in range(*step.indices(len(self)))]
        n = len(self)
        k = step + n if step < 0 else step
        if not 0 <= k < n:
            raise IndexError(f"step {step} is outside the steps run so far (0 to {n - 1})")
        return self._values[bisect.bisect_right(self._steps, k) - 1]


class RunValue(Sequence):
    """One summary readout: the same value at every step (see the module docstring)."""

    def __init__(self, name: str, records: StepRecords) -> None:
        self._name = name
        self._records = records

    def __len__(self) -> int:
        if BATCH_RUN_READS_RECORDS:
            return len(self._records.record_steps)
        return self._records._clock() + 1

    def __getitem__(self, step: int | slice) -> Any:
        if isinstance(step, slice):
            return [self[k] for k in range(*step.indices(len(self)))]
        n = len(self)
        if not -n <= step < n:
            raise IndexError(f"step {step} is outside the steps run so far (0 to {n - 1})")
        return self._records.summary()[self._name]


class _ByStep(Mapping):
    def __init__(self, records: StepRecords) -> None:
        self._records = records

    def _summary_names(self) -> list[str]:
        return [n for n in self._records.summary() if n not in self._records._series]

    def __getitem__(self, name: str) -> StepSeries | RunValue:
        if name in self._records._series:
            return self._records._series[name]
        if name in self._records.summary():
            return RunValue(name, self._records)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._records._series
        yield from self._summary_names()

    def __len__(self) -> int:
        return len(self._records._series) + len(self._summary_names())


class StepRecords(mesa.DataCollector):
    """A `mesa.DataCollector` whose records are taken every few steps and read by step."""

    def __init__(self, clock: Callable[[], int], model_reporters: dict | None = None,
                 summary: Callable[[], Mapping[str, Any]] | None = None,
                 **kwargs: Any) -> None:
        """
        Args:
            clock: the model's current step (`lambda: model.steps`).
            model_reporters, kwargs: as for `mesa.DataCollector`.
            summary: the run's summary readouts as they stand (`model.summary`); computed
                at most once per step, and only when read.
        """
        self._clock = clock
        self._summary = summary
        self._summary_at: tuple[int, Mapping[str, Any]] | None = None
        self._steps: list[int] = []
        self._series: dict[str, StepSeries] = {}
        self._by_step = _ByStep(self)
        super().__init__(model_reporters=model_reporters, **kwargs)

    def summary(self) -> Mapping[str, Any]:
        """The run's summary readouts now (empty when the model gives none)."""
        if self._summary is None:
            return {}
        now = self._clock()
        if self._summary_at is None or self._summary_at[0] != now:
            self._summary_at = (now, self._summary())
        return self._summary_at[1]

    @property
    def model_vars(self) -> Mapping[str, StepSeries]:
        return self._by_step

    @model_vars.setter
    def model_vars(self, value: dict) -> None:  # DataCollector.__init__ starts it empty
        if value:
            raise AttributeError("model_vars is filled by collect()")

    def _new_model_reporter(self, name: str, reporter: Any) -> None:
        self.model_reporters[name] = reporter
        self._series[name] = StepSeries([], self._steps, self._clock)

    @property
    def record_steps(self) -> list[int]:
        """The step at which each record was taken."""
        return self._steps

    @property
    def _collection_steps(self) -> list[int]:
        """The step of each record, where Mesa 3.4+'s `batch_run` looks for it (a copy: Mesa's
        own `collect` appends `model.time` to it, which `collect` below does instead)."""
        return list(self._steps)

    @_collection_steps.setter
    def _collection_steps(self, value: list) -> None:  # DataCollector.__init__ starts it empty
        if value:
            raise AttributeError("_collection_steps is filled by collect()")

    def collect(self, model: mesa.Model) -> None:
        """Record every reporter now (a second record at the same step wins when read by
        step)."""
        self._steps.append(model.steps)
        super().collect(model)

    def state_dict(self) -> dict:
        """The records so far, to continue a run from a checkpoint."""
        return {"steps": list(self._steps),
                "series": {name: list(s.records) for name, s in self._series.items()}}

    def load_state_dict(self, saved: dict) -> None:
        self._steps[:] = [int(step) for step in saved["steps"]]
        for name, records in saved["series"].items():
            self._series[name].records[:] = list(records)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per record, indexed by the step it was taken at."""
        if not self.model_reporters:
            raise UserWarning("No model reporters have been defined in the DataCollector, "
                              "returning empty DataFrame.")
        return pd.DataFrame({name: s.records for name, s in self._series.items()},
                            index=pd.Index(self._steps, name="step"))
