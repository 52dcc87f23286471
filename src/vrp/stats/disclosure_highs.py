"""HiGHS programmes for the disclosure audit (stats/disclosure_audit.py): one independent part of the system of
published cells, kept as one model whose objective changes from cell to cell."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vrp.stats.disclosure_audit import _Reduced

INTEGER_TIME_LIMIT = 10.0  # seconds per integer programme; one that runs out counts as pinned (hide more)


_BANNER_SHOWN = False
_BANNER_LOCK = threading.Lock()  # families are protected in threads (pipeline/cube.py): one redirection at a time


def _quiet_highs(highspy):
    """A HiGHS instance; the first one in a process prints a banner on standard output from C++, which would land
    in the CLI's output (and a CSV piped from it), so standard output is closed for that one moment."""
    global _BANNER_SHOWN
    with _BANNER_LOCK:
        if _BANNER_SHOWN:
            h = highspy.Highs()
        else:
            import os
            import sys

            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")  # only the objective changes between solves: start from the last basis,
    h.setOptionValue("simplex_strategy", 4)  # which stays primal feasible, so primal simplex goes on from it
    # Paid on every solve; on an ill-conditioned start basis HiGHS would fall back to a simpler one. These
    # programmes have 0/1 coefficients, any status but optimal still raises, and the answers were identical.
    h.setOptionValue("simplex_initial_condition_check", False)
    return h


class PartSolver:
    """One independent part of the system, in HiGHS; objectives change, the model and its basis stay."""

    def __init__(self, system: _Reduced, cols: np.ndarray, integer: bool = False):
        import highspy

        rows = np.flatnonzero(np.diff(system.matrix[:, cols].tocsr().indptr) > 0)
        a = system.matrix[rows][:, cols].tocsc()
        h = _quiet_highs(highspy)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), len(rows)
        lp.col_cost_ = np.zeros(len(cols))
        lp.col_lower_ = system.col_lower[cols]
        lp.col_upper_ = np.where(np.isinf(system.col_upper[cols]), highspy.kHighsInf, system.col_upper[cols])
        lp.row_lower_ = system.row_lower[rows]
        lp.row_upper_ = np.where(np.isinf(system.row_upper[rows]), highspy.kHighsInf, system.row_upper[rows])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        h.passModel(lp)
        local = np.full(system.n, -1)
        local[cols] = np.arange(len(cols))
        pairs = local[system.pairs] if len(system.pairs) else np.zeros((0, 2), int)
        pairs = pairs[(pairs >= 0).all(axis=1)]
        if len(pairs):  # child - parent <= 0
            k = len(pairs)
            h.addRows(
                k,
                np.full(k, -highspy.kHighsInf),
                np.zeros(k),
                2 * k,
                np.arange(0, 2 * k, 2, dtype=np.int32),
                pairs.ravel().astype(np.int32),
                np.tile([1.0, -1.0], k),
            )
        self.h, self.highspy, self.n = h, highspy, len(cols)
        self.last = np.zeros(0, dtype=np.int32)
        if integer:
            h.changeColsIntegrality(
                len(cols), np.arange(len(cols), dtype=np.int32), np.full(len(cols), highspy.HighsVarType.kInteger)
            )
            h.setOptionValue("presolve", "on")
            h.setOptionValue("time_limit", INTEGER_TIME_LIMIT)

    def reaches(self, cols: np.ndarray, coefs: np.ndarray, target: float, keep=None) -> bool:
        """Whether some whole-number solution gives sum(coefs * x[cols]) == target (an integer model); the
        solution found goes to ``keep``."""
        h = self.h
        h.addRow(target, target, len(cols), cols.astype(np.int32), coefs.astype(float))
        try:
            h.run()
            found = h.getModelStatus() == self.highspy.HighsModelStatus.kOptimal
            if found and keep is not None:
                keep(self.solution())
            return found
        finally:
            h.deleteRows(1, np.array([h.getNumRow() - 1], dtype=np.int32))

    def _solve(self, sense) -> float:
        self.h.changeObjectiveSense(sense)
        self.h.run()
        status = self.h.getModelStatus()
        if status == self.highspy.HighsModelStatus.kUnbounded:
            return -np.inf if sense == self.highspy.ObjSense.kMinimize else np.inf
        if status != self.highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: the programme ended {self.h.modelStatusToString(status)}")
        return self.h.getInfo().objective_function_value

    def optimum(self, cols: np.ndarray, coefs: np.ndarray, maximise: bool) -> float:
        cols = cols.astype(np.int32)
        if len(self.last):
            self.h.changeColsCost(len(self.last), self.last, np.zeros(len(self.last)))
        self.h.changeColsCost(len(cols), cols, coefs.astype(float))
        self.last = cols
        return self._solve(self.highspy.ObjSense.kMaximize if maximise else self.highspy.ObjSense.kMinimize)

    def solution(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)
