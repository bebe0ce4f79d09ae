"""How much of the machine a measurement really had: on a virtual machine the host may run other guests on
the same cores ("steal" time), which slows a run without anything in it changing. Printed beside timings so
that readings taken while the host was busy can be told apart."""

from __future__ import annotations

from pathlib import Path

PROC_STAT = Path("/proc/stat")
STEAL_FIELD = 8  # "cpu user nice system idle iowait irq softirq steal ..."


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, all) CPU ticks since boot, summed over the cores; None where the kernel does not tell."""
    try:
        fields = PROC_STAT.read_text().splitlines()[0].split()
    except OSError:
        return None
    if fields[0] != "cpu" or len(fields) <= STEAL_FIELD:
        return None
    ticks = [int(value) for value in fields[1:STEAL_FIELD + 1]]  # guest time is already counted in user time
    return ticks[STEAL_FIELD - 1], sum(ticks)


class StolenShare:
    """Share of the CPU time the host took for others while the block ran (`share`, 0..1, or None)."""

    share: float | None = None

    def __enter__(self) -> StolenShare:
        self._start = cpu_ticks()
        return self

    def __exit__(self, *exc) -> None:
        end = cpu_ticks()
        if self._start and end and end[1] > self._start[1]:
            self.share = (end[0] - self._start[0]) / (end[1] - self._start[1])

    def __str__(self) -> str:
        return "steal n/a" if self.share is None else f"steal {self.share:.0%}"
