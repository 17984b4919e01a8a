r"""Mathematical names of measures and grid variables, for axis labels (matplotlib mathtext).

A measure's name in an experiment's :class:`~verify.schema.Schema` is an identifier
(``pl_lyapunov``); its meaning is the :class:`~verify.schema.Measure` help text.  Axes are labelled
with the quantity in mathematics instead, from :data:`MEASURE_MATH` (keyed by ``(experiment,
measure)``); a measure of a user's experiment that is not listed is labelled by its help text.
Every entry must parse as mathtext (``tests/verify/test_figures.py`` checks it).
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.mathtext

__all__ = ["MEASURE_MATH", "GRID_MATH", "measure_label", "grid_label", "mathtext_ok"]

#: (experiment, measure) -> the measured quantity as mathtext
MEASURE_MATH: dict[tuple[str, str], str] = {
    ("adom", "decay_rate"): r"decay rate of $\sum_i\Vert x_i^k-x^\star\Vert^2$",
    ("adom", "comm_rounds_to_eps"): r"communication rounds to $\varepsilon$",
    ("adom", "mc_cost_to_eps"): r"cost to $\varepsilon$ (multi-consensus)",
    ("adom", "hard_comm_rounds"): r"communication rounds (hard instance)",
    ("adom", "hard_grad_calls"): r"gradient calls per node (hard instance)",
    ("adom", "cost_over_lower_bound"): r"rounds to $\varepsilon$ / lower bound",
    ("dp_quantile", "cdf_exceed_prob"): r"$\Pr[\max_j|\hat C_j-C_j|>$ threshold$]$",
    ("dp_quantile", "level_error"): r"level error $|\theta'-\theta|$",
    ("dp_quantile", "decode_error"): r"$\max_j|$decoded$-$true sum$|$",
    ("dp_quantile", "cdf_error_quantile"): r"$(1-\alpha)$ quantile of $N/m$",
    ("ef21", "avg_grad_norm_sq"): r"$\frac{1}{T}\sum_{t<T}\Vert\nabla f(x^t)\Vert^2$",
    ("ef21", "pl_lyapunov"): r"$\Psi^T=f(x^T)-f^\star+\frac{\gamma}{\theta}G^T$",
    ("ef21", "ef21w_ef21_gap"): r"$\max_t\Vert x_W^t-x^t\Vert/\max(1,\Vert x^t\Vert)$",
    ("ef21", "smoothness_L"): r"smoothness constant $L$",
    ("ef21", "clone_qm"): r"$M_{qm}$ of the cloned problem",
    ("local_methods", "proxskip_lyapunov"): r"$\mathbb{E}\,\Psi_t$ (Scaffnew)",
    ("local_methods", "proxskip_sgd_lyapunov"): r"$\mathbb{E}\,\Psi_t$ (Scaffnew, stochastic gradients)",
    ("local_methods", "proxskip_one_step"): r"$\mathbb{E}[\Psi_{t+1}\mid$ state$]$ / claimed form",
    ("local_methods", "proxskip_gd_gap"): r"$\max_t\Vert x_t^{p=1}-x_t^{GD}\Vert/\Vert x_0-x^\star\Vert$",
    ("local_methods", "comms_to_eps"): r"$\mathbb{E}$ communications to $\varepsilon$",
    ("local_methods", "comms_vs_p"): r"$\mathbb{E}$ communications $p\,T_\varepsilon$",
    ("local_methods", "lgd_dist_fixed"): r"$\Vert x_r-x_\infty\Vert$",
    ("local_methods", "lgd_dist_opt"): r"$\Vert x_r-x^\star\Vert$",
    ("local_methods", "lgd_floor"): r"$\Vert x_\infty-x^\star\Vert/(1+\Vert x^\star\Vert)$",
    ("local_methods", "lgd_floor_vs_H"): r"$\Vert x_\infty-x^\star\Vert$",
    ("local_methods", "lgd_rounds_to_eps"): r"rounds to $\Vert x_r-x^\star\Vert\leq\varepsilon$",
    ("local_methods", "khaled_gap"): r"$f(\bar x_T)-f^\star$",
    ("local_methods", "flix_constants"): r"$\tilde L$, then $1/\tilde\mu$",
    ("local_methods", "flix_uniform_gap"): r"deviation from $\tilde f-\tilde f^\star=\tau^2(f-f^\star)$",
    ("local_methods", "flix_gd_gap"): r"$\tilde f(x_t)-\tilde f^\star$",
    ("local_methods", "flix_lgd_gap"): r"$\Vert x_\infty-\tilde x^\star\Vert/(1+\Vert\tilde x^\star\Vert)$",
    ("lsvrp", "moments_xw"): r"$X_k=\mathbb{E}\Vert x^k-x^\star\Vert^2$, $W_k=\mathbb{E}\Vert w^k-x^\star\Vert^2$",
    ("lsvrp", "lyapunov_psi"): r"$\mathbb{E}\,\Psi_k=X_k+cW_k$",
    ("lsvrp", "sgd_dist_sq"): r"$\mathbb{E}\Vert x^k-x^\star\Vert^2$ (SGD)",
    ("lsvrp", "comms_to_eps"): r"$\mathbb{E}$ communications to $\varepsilon$",
    ("lsvrp", "tuned_comms_to_eps"): r"$\mathbb{E}$ communications to $\varepsilon$ (tuned $\gamma$)",
    ("personalization", "decrease"): r"$F(z)-F(z^+)$",
    ("personalization", "avg_stationarity"): r"$\frac{1}{T}\sum_{t<T}M_t$",
    ("personalization", "avg_stationarity_sampled"): r"$\mathbb{E}\,\frac{1}{T}\sum_{t<T}M_t$",
    ("personalization", "method_gap"): r"$\mathbb{E}$ avg $M_t$: one method minus the other",
    ("rare_features", "avg_grad_norm_sq"): r"$\frac{1}{T}\sum_{t<T}\Vert\nabla f(x^t)\Vert^2$",
    ("rare_features", "L_plus"): r"$L_+$",
    ("rare_features", "bits_to_eps"): r"bits per worker to $\varepsilon$",
    ("rcd", "expected_gap"): r"$\mathbb{E}[f(x^T)]-f^\star$",
    ("rcd", "avg_grad_norm_sq"): r"$\frac{1}{T}\sum_{k<T}\mathbb{E}\Vert\nabla f(x^k)\Vert^2$",
    ("rcd", "sketch_table_error"): r"relative error of $\mathbb{E}[CLC]$, $\tilde L$, $\Omega$",
    ("rcd", "sketch_mean_error"): r"$\max_i|\mathbb{E}[c_i]-1|$",
    ("rfa", "het_radius"): r"$\Vert w_i^\star-w^\star\Vert$",
    ("rfa", "one_round_error"): r"$\Vert w_{t+1}-w^\star\Vert$",
    ("rfa", "floor_sq"): r"$\Vert w_T-w^\star\Vert^2$",
    ("rfa", "error_sq_rounds"): r"$\Vert w_t-w^\star\Vert^2$",
    ("rfa", "floor_sq_margin"): r"$\Vert w_T-w^\star\Vert^2$",
    ("rfa", "floor_sq_eps"): r"$\Vert w_T-w^\star\Vert^2$",
    ("superquantile", "signed_bias"): r"$\mathbb{E}\,S_\theta(Z_{1:m})-S_\theta(Z)$",
    ("superquantile", "signed_bias_plus"): r"$(\mathbb{E}\,S_\theta(Z_{1:m})-S_\theta(Z))_+$",
    ("superquantile", "bias"): r"$S_\theta(Z)-\mathbb{E}\,S_\theta(Z_{1:m})$",
    ("superquantile", "abs_bias"): r"$|\mathbb{E}\,S_\theta(Z_{1:m})-S_\theta(Z)|$",
    ("superquantile", "variance"): r"$\mathrm{Var}\,S_\theta(Z_{1:m})$",
    ("superquantile", "l2_smoothing_gap"): r"$S_\theta(x)-SQ^\nu_\theta(x)$",
    ("superquantile", "entropic_gap"): r"$F^\nu_\theta(x)-S_\theta(x)$",
    ("superquantile", "smoothed_gap"): r"$F_{\theta,\nu}(w_t)-F^\star_{\theta,\nu}$",
    ("superquantile", "moreau_grad_sq"): r"$\frac{1}{T}\sum_{t<T}\Vert\nabla\Phi^{2L}(w_t)\Vert^2$",
    ("superquantile", "surrogate_gap"): r"$\mathbb{E}[\bar F_\theta(\bar w_T)]-\bar F^\star_\theta$",
    ("three_point", "3pc_error"): r"$\mathbb{E}\Vert g_i^{t+1}-\nabla f_i(x^{t+1})\Vert^2$ (per client-round)",
    ("three_point", "avg_grad_norm_sq"): r"$\frac{1}{T}\sum_{t<T}\mathbb{E}\Vert\nabla f(x^t)\Vert^2$",
    ("three_point", "lyapunov_step"): r"$\Phi^{t+1}=f(x^{t+1})-f_{low}+\frac{\gamma}{2A}G^{t+1}$",
    ("three_point", "rounds_to_eps"): r"rounds $T_0$ after which the running mean stays $\leq\varepsilon^2$",
    ("three_point", "pl_lyapunov"): r"$\Psi^T=f(x^T)-f^\star+\frac{\gamma}{A}G^T$",
    ("weiszfeld", "gm_gap"): r"$g(z_t)-g^\star$",
    ("weiszfeld", "gnu_gap"): r"$g_\nu(z_t)-g_\nu(z^\star_\nu)$",
    ("weiszfeld", "iterations_to_eps"): r"iterations to $g(z_t)-g^\star\leq\varepsilon$",
    ("weiszfeld", "gnu_increase"): r"$g_\nu(z_{t+1})-g_\nu(z_t)$",
    ("weiszfeld", "dist_ratio"): r"$\Vert z_{t+1}-z^\star_\nu\Vert/\Vert z_t-z^\star_\nu\Vert$",
    ("weiszfeld", "eta_max"): r"$\max_k\max(\nu,\Vert z_t-w_k\Vert)$",
    ("weiszfeld", "gm_distance"): r"$\Vert z_t-y\Vert$",
    ("weiszfeld", "relative_gap"): r"$(g(z_T)-g^\star)/g^\star$",
}

#: grid variable -> its axis label
GRID_MATH: dict[str, str] = {
    "T": r"iteration $T$",
    "t": r"iteration $t$",
    "k": r"iteration $k$",
    "m": r"sample size $m$",
    "kappa": r"$\kappa=\delta/\mu$",
    "chi": r"$\chi$",
    "eps": r"accuracy $\varepsilon$",
    "c": r"$c$ (clients sharing a feature)",
    "k_eps": r"depth $k_\varepsilon$",
    "sample": "sampled instance",
    "row": "loss vector",
    "K_t": r"local steps $K_t=2^t$ of round $t$",
    "inv_upsilon": r"$1/\upsilon$ (honest-majority margin)",
}


@lru_cache(maxsize=None)
def mathtext_ok(text: str) -> bool:
    """Whether matplotlib can typeset ``text`` (mathtext, no TeX installation needed)."""
    try:
        matplotlib.mathtext.MathTextParser("path").parse(text)
    except (ValueError, RuntimeError):
        return False
    return True


def measure_label(experiment, measure: str, in_expectation: bool = False) -> str:
    """The y-axis label of a measure: its mathematical name, else its help text, else its identifier."""
    name = getattr(experiment, "name", str(experiment))
    text = MEASURE_MATH.get((name, measure))
    if text is None:
        helps = getattr(experiment, "measures", {}) or {}
        text = helps.get(measure) or measure
        if len(text) > 60:
            text = text[:57] + "..."
        text = text.replace("$", r"\$")
    return text


def grid_label(grid_name: str) -> str:
    """The x-axis label of a grid variable (a Greek name is typeset as its letter)."""
    if grid_name in GRID_MATH:
        return GRID_MATH[grid_name]
    if grid_name.isidentifier() and mathtext_ok(f"$\\{grid_name}$") and len(grid_name) > 1:
        return f"$\\{grid_name}$"
    return f"${grid_name}$" if grid_name.isidentifier() and mathtext_ok(f"${grid_name}$") else grid_name
