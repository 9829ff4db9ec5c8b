"""The engine's Cox regression: Efron or Breslow ties, counting-process (start, stop] data
(:class:`CoxData`, :func:`newton`), and the calibration search's Efron fit in a frozen
arithmetic order (:func:`cox_wald_frozen`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# ------------------------------------------------------------------ Cox regression


class CoxData:
    """Sorted arrays and risk-set bookkeeping for one Cox model (no beta yet).

    ``x`` (n, p) covariates, ``stop`` and ``event`` (n,), optional ``start`` for
    counting-process (start, stop] rows; ``ties`` "efron" or "breslow". Covariates are
    centred (same coefficients, better conditioning).
    """

    def __init__(self, x: np.ndarray, stop: np.ndarray, event: np.ndarray,
                 start: np.ndarray | None, ties: str) -> None:
        self.x = x - x.mean(axis=0)
        self.p = x.shape[1]
        order = np.argsort(stop, kind="stable")
        self.order_stop = order
        self.dtimes, self.d_j = np.unique(stop[event], return_counts=True)
        # rows with stop >= t_j are order_stop[first_stop[j]:]
        self.first_stop = np.searchsorted(stop[order], self.dtimes, side="left")
        self.order_start = None
        if start is not None:
            self.order_start = np.argsort(start, kind="stable")
            # rows with start >= t_j are not at risk at t_j (interval is (start, stop])
            self.first_start = np.searchsorted(start[self.order_start], self.dtimes, side="left")
        # events grouped by time: j index and Efron fraction l / d_j for each death
        ev_idx = np.flatnonzero(event)
        self.ev_idx = ev_idx[np.argsort(stop[ev_idx], kind="stable")]
        self.ev_j = np.repeat(np.arange(self.dtimes.size), self.d_j)
        if ties == "efron":
            within = np.arange(self.ev_idx.size) - np.repeat(np.cumsum(self.d_j) - self.d_j, self.d_j)
            self.frac = within / np.repeat(self.d_j, self.d_j)
        else:
            self.frac = np.zeros(self.ev_idx.size)
        self.x_ev_sum = self.x[self.ev_idx].sum(axis=0)

    def _tail_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (rows = observations) over each event time's risk set."""
        def tails(order: np.ndarray, first: np.ndarray) -> np.ndarray:
            cs = np.cumsum(values[order][::-1], axis=0)[::-1]
            return np.concatenate([cs, np.zeros((1,) + cs.shape[1:])], axis=0)[first]

        out = tails(self.order_stop, self.first_stop)
        if self.order_start is not None:
            out = out - tails(self.order_start, self.first_start)
        return out

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, score vector and information matrix at ``beta``."""
        eta = self.x @ beta
        shift = eta.max()
        r = np.exp(eta - shift)
        xr = self.x * r[:, None]
        xxr = self.x[:, :, None] * xr[:, None, :]
        blocks = np.concatenate([r[:, None], xr, xxr.reshape(len(r), -1)], axis=1)
        risk = self._tail_sums(blocks)  # (n_times, 1 + p + p*p)
        width = blocks.shape[1]
        # per event time, the sum of its deaths' blocks (np.add.at's order, much faster)
        keys = (self.ev_j[:, None] * width + np.arange(width)).ravel()
        tied = np.bincount(keys, weights=blocks[self.ev_idx].ravel(),
                           minlength=self.dtimes.size * width).reshape(-1, width)
        per_death = risk[self.ev_j] - self.frac[:, None] * tied[self.ev_j]
        s0 = per_death[:, 0]
        if np.any(s0 <= 0):
            raise FloatingPointError("empty risk set")
        s1 = per_death[:, 1 : 1 + self.p] / s0[:, None]
        s2 = per_death[:, 1 + self.p :].reshape(-1, self.p, self.p) / s0[:, None, None]
        loglik = float(eta[self.ev_idx].sum() - (np.log(s0) + shift).sum())
        return loglik, self.x_ev_sum - s1.sum(axis=0), s2.sum(axis=0) - s1.T @ s1


def newton(cd: CoxData, max_iter: int = 60, tol: float = 1e-10
           ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, bool, int]:
    """Newton-Raphson from beta = 0 with step-halving whenever the log partial likelihood
    would decrease; stops when the largest step is below ``tol`` and takes one polishing
    step. Returns beta, loglik, score, information, converged, iterations."""
    beta = np.zeros(cd.p)
    loglik, score, info = cd.evaluate(beta)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        halvings = 0
        while True:
            cand = beta + step
            try:
                new = cd.evaluate(cand)
            except FloatingPointError:
                new = None
            if new is not None and np.isfinite(new[0]) and new[0] >= loglik - 1e-12 * max(1.0, abs(loglik)):
                break
            step = step / 2.0
            halvings += 1
            if halvings > 30:
                return beta, loglik, score, info, False, it
        delta_ll = new[0] - loglik
        beta = cand
        loglik, score, info = new
        if np.max(np.abs(step)) < tol or (abs(delta_ll) < 1e-13 * max(1.0, abs(loglik))
                                          and np.max(np.abs(step)) < 1e-6):
            converged = True
            # one more exact Newton step polishes the last digits at no risk
            try:
                cand = beta + np.linalg.solve(info, score)
                new = cd.evaluate(cand)
                if new[0] >= loglik - 1e-12 * max(1.0, abs(loglik)):
                    beta = cand
                    loglik, score, info = new
            except (np.linalg.LinAlgError, FloatingPointError):
                pass
            break
    return beta, loglik, score, info, converged, it


def fit_problem(beta: np.ndarray, info: np.ndarray, x: np.ndarray,
                names: Sequence[str], converged: bool) -> str | None:
    """Why a Newton fit is not an estimate (diverging coefficients, a singular information
    matrix, no convergence), as a plain sentence; None when it is one."""
    spread = x.max(axis=0) - x.min(axis=0)
    # a hazard ratio above e^25 (~7e10) between the covariate's extremes is not an
    # estimate: the likelihood keeps rising as the coefficient runs off to infinity
    runaway = np.abs(beta) * spread
    if np.any(runaway > 25.0) or not np.all(np.isfinite(beta)):
        j = int(np.nanargmax(np.where(np.isfinite(runaway), runaway, np.inf)))
        return (
            f"the coefficient of {names[j]!r} diverges (monotone likelihood: the events are "
            f"completely separated by {names[j]!r}), so its hazard ratio is infinite and the "
            "Cox model cannot be fitted"
        )
    diag = np.diag(info)
    if np.any(~np.isfinite(diag)) or np.any(diag <= 0):
        j = int(np.argmin(np.where(np.isfinite(diag), diag, -np.inf)))
        return (
            f"the information matrix is singular: {names[j]!r} carries no information "
            "about the events; remove it"
        )
    d = 1.0 / np.sqrt(diag)
    evals, evecs = np.linalg.eigh(info * np.outer(d, d))
    if evals[0] <= 1e-10:
        j = int(np.argmax(np.abs(evecs[:, 0])))
        return (
            f"the information matrix is singular: {names[j]!r} is collinear with other "
            "covariates; remove it or one of them"
        )
    if not converged:
        return (
            "the Newton-Raphson iterations did not converge; check the covariates "
            f"({', '.join(map(repr, names))}) for separation or extreme values"
        )
    return None


def cox_wald_frozen(time: np.ndarray, event: np.ndarray, x: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """Efron Cox coefficients and two-sided Wald p-values, in a frozen arithmetic order.

    The calibration search of the synthetic cohort (``simulation.calibration.calibrate``)
    keeps or rejects each re-draw by comparing these p-values; the recorded search
    (``shipped_calibration.yaml``) replays only with exactly these floating-point
    operations (:class:`CoxData` agrees to ~1e-10 but flips a decision at step 982).
    ``tests/test_engine.py`` checks it against lifelines. Returns None when
    Newton-Raphson does not converge to finite estimates (|beta| <= 8).
    """
    order = np.argsort(-time, kind="stable")
    t, e, x = time[order], event[order] == 1, x[order]
    # risk set of row i = rows 0..last[i] (all with time >= t_i)
    last = np.searchsorted(-t, -t, side="right") - 1
    # Efron: the j-th (0-based) of the d events tied at one time removes j/d of their weight
    ev_idx = np.flatnonzero(e)
    grp = last[ev_idx]  # one id per distinct event time
    uniq, inv, d = np.unique(grp, return_inverse=True, return_counts=True)
    first_of = np.r_[0, np.cumsum(d)[:-1]]
    rank = np.arange(len(ev_idx)) - first_of[inv]  # ev_idx is sorted by grp (times descending)
    frac = (rank / d[inv])[:, None]
    p = x.shape[1]
    beta = np.zeros(p)

    def parts(b: np.ndarray):
        eta = x @ b
        c = eta.max()
        w = np.exp(eta - c)
        wx = w[:, None] * x
        wxx = wx[:, :, None] * x[:, None, :]
        s0 = np.cumsum(w)[grp]
        s1 = np.cumsum(wx, axis=0)[grp]
        s2 = np.cumsum(wxx, axis=0)[grp]
        t0 = np.bincount(inv, weights=w[ev_idx])[inv]
        t1 = np.stack([np.bincount(inv, weights=wx[ev_idx, k]) for k in range(p)], axis=1)[inv]
        flat = wxx[ev_idx].reshape(len(ev_idx), p * p)
        t2 = np.stack([np.bincount(inv, weights=flat[:, k], minlength=len(uniq))
                       for k in range(p * p)], axis=1)[inv].reshape(-1, p, p)
        den = s0 - frac[:, 0] * t0
        mean = (s1 - frac * t1) / den[:, None]
        ll = float(np.sum(eta[ev_idx] - c - np.log(den)))
        grad = np.sum(x[ev_idx] - mean, axis=0)
        hess = np.sum((s2 - frac[:, :, None] * t2) / den[:, None, None]
                      - mean[:, :, None] * mean[:, None, :], axis=0)
        return ll, grad, hess

    ll, grad, hess = parts(beta)
    for _ in range(60):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return None
        s = 1.0
        while True:
            nb = beta + s * step
            nll, ngrad, nhess = parts(nb)
            if nll >= ll - 1e-12 or s < 1e-6:
                break
            s /= 2
        beta, ll, grad, hess = nb, nll, ngrad, nhess
        if np.max(np.abs(s * step)) < 1e-10:
            break
    else:
        return None
    if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 8:
        return None
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return None
    se = np.sqrt(np.diag(cov))
    pv = np.array([math.erfc(abs(b / s) / math.sqrt(2.0)) for b, s in zip(beta, se, strict=True)])
    return beta, pv
