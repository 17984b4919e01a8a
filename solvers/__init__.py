r"""Numerics only (NumPy/SciPy): problems with exact constants, compressors, and the algorithms.

Nothing here imports ``theorems`` or sympy; the harness in ``verify`` joins the two.

The solver contract
-------------------
Every iterative method is called the same way and returns the same kind of record::

    solver(problem, x0, *, gamma, T, rng, ...) -> Trajectory

``problem`` (positional, first)
    The objective: a :class:`~solvers.problems.Problem`, a decentralized ``NodeQuadratics`` /
    ``NodeLogistic``, a :class:`~solvers.rare_features.SparseFederated`, superquantile or
    personalization ``QuadraticClients``, a point cloud (Weiszfeld), the pair ``(A, b)`` (federated
    least squares), the pair ``(H, wstar)`` of diagonal quadratic clients (RFA under corruption).
``x0`` (positional, second)
    The start point (``None`` where the method has a canonical start: ADOM+ and gradient tracking
    start from zero, Weiszfeld from the weighted mean, RFA on least squares from zero; FedSim /
    FedAlt take the pair ``(u0, V0)`` of shared and personal parameters, or both flattened).
``gamma``, ``T`` (keyword-only)
    The stepsize (scalar, or one per step where the method uses a schedule; absent where the
    method has none: ADOM+'s parameters follow from :math:`(\mu, L, \chi)`, CISS backtracks;
    ``gamma_u``, ``gamma_v`` where the method has one per block of parameters) and the number of
    steps (where a step is a communication round of several local steps, the rounds: Local GD's
    ``T``, with ``H`` local steps each).
``rng`` (keyword-only)
    A ``numpy.random.Generator``, the only source of randomness.  Solvers never seed themselves
    and never accept an integer seed: the caller spawns independent streams for data, start point
    and algorithm (``verify.instances.streams``).  Stochastic methods require it; deterministic ones
    accept ``None`` (the default) so that every solver can be called alike.
every other algorithm parameter (keyword-only)
    Compressor, sketch, gossip sequence, refresh probability, replications, ...

The return value is a :class:`~solvers._trajectory.Trajectory` subclass: ``T`` (steps run),
``x_final``, ``diverged_at``, ``meta``, plus the series the method tracks per step (named in the
class attribute ``SERIES``, read generically by :meth:`Trajectory.series`, the step on their last
axis) and its cost counters.  Iterates and other per-step vectors are kept as per-step rows
(``(T+1, d)``, with replication axes where the method has them) and are not series.

======================================  =============================  ==========================================
solver                                  returns                        tracked series / counters
======================================  =============================  ==========================================
``ef21.ef21``                           ``EF21Trajectory``             grad_norm_sq, f, G (Lyapunov), floats,
                                        (dense data) or                bits; dense and sparse data behind one
                                        ``SparseTrajectory``           function (two kernels)
``rare_features.gd_sparse``             ``SparseTrajectory``           grad_norm_sq, f, floats, bits
``adom.adom_plus``,                     ``ADOMTrajectory``             dist_sq, consensus, comm_rounds,
``adom.gradient_tracking``                                             grad_calls, depth
``lsvrp.lsvrp``, ``lsvrp.sgd``          ``LSVRPTrajectory``            dist_x, dist_w, comms; refreshes,
                                                                       grad_calls, prox_calls
``rcd.sketched_rcd``                    ``RCDTrajectory``              f, grad_norm_sq, dist_sq
``rcd.sketched_rcd_naive``              ``RCDTrajectory``              f (the reference loop)
``superquantile.sfl_subgradient``       ``SFLTrajectory``              none: the iterates (and averages) at
                                                                       the checkpoints as rows
``superquantile.ciss_alternating``      ``CISSTrajectory``             eps, inner; the iterates as rows
``superquantile.fedavg``                ``Trajectory``                 (the final model only)
``weiszfeld.smoothed_weiszfeld``,       ``WeiszfeldResult``            g, g_nu, L, eta_min, eta_max; the
``weiszfeld.weiszfeld``                                                iterates as rows
``weiszfeld.rfa_least_squares``         ``RFATrajectory``              none: the server models as rows
``rfa.rfa``                             ``ByzantineRFATrajectory``     eps, vartheta (per round); the models w
                                                                       and selection masks as rows
``personalization.run``                 ``PersonalizationTrajectory``  stationarity, values
``local_methods.proxskip``              ``ProxSkipTrajectory``         lyapunov, comms (R, T+1); the client
                                                                       averages x_mean as rows; grad_calls
``local_methods.local_gd``              ``LocalGDTrajectory``          comms (T = communication rounds); the
                                                                       server points x and virtual iterates
                                                                       as rows; grad_calls
``local_methods.flix_gd``               ``FlixTrajectory``             comms; the iterates x as rows;
                                                                       grad_calls
======================================  =============================  ==========================================

Helpers that are not iterative runs (exact moments, spectra, prox maps, ``rpt_optimal_probabilities``
with its ``rng`` for random restarts) keep plain signatures.
"""

from ._trajectory import Trajectory
from ._validate import InvalidInput

__all__ = ["InvalidInput", "Trajectory"]
