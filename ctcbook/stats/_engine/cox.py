"""The engine's Cox regression: Efron or Breslow ties, counting-process (start, stop] data."""

from __future__ import annotations

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
