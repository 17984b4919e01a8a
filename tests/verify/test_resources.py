"""Memory estimates before allocation (verify/resources.py): formatting, the memory available, the refusal."""

import pytest

from ratecheck.verify.errors import UsageError
from ratecheck.verify.experiments import Experiment, all_experiments
from ratecheck.verify.resources import Need, available_memory, check_memory, format_bytes, memory_bytes


def test_format_bytes():
    assert format_bytes(80e9) == "80 GB"
    assert format_bytes(2.5e9) == "2.5 GB"
    assert format_bytes(999) == "999 bytes"
    assert format_bytes(1.2e15) == "1.2 PB"
    assert format_bytes(8 * 10**30).endswith("bytes")  # beyond exabytes: scientific notation


def test_available_memory_is_known_on_this_platform():
    avail = available_memory()
    assert avail is None or avail > 0


def test_check_memory_names_estimate_dominant_term_available_and_what_to_reduce():
    needs = [
        Need("12*replications*n*d", 12 * 64 * 10**9 * 20, ("replications", "n", "d")),
        Need("4*(T+1)", 4 * 2001, ("T",)),
    ]
    assert memory_bytes(needs) == 8 * (12 * 64 * 10**9 * 20 + 4 * 2001)
    with pytest.raises(UsageError) as info:
        check_memory("experiment 'x'", needs, available=20 * 10**9)
    assert str(info.value) == (
        "experiment 'x': this instance needs about 123 TB (mostly 12*replications*n*d floats), "
        "more than the 20 GB available; reduce replications, n or d"
    )
    assert check_memory("experiment 'x'", needs[1:], available=20 * 10**9) == 8 * 4 * 2001  # fits: returned


def test_check_memory_without_known_memory_does_not_refuse(monkeypatch):
    import ratecheck.verify.resources as r

    monkeypatch.setattr(r, "available_memory", lambda: None)
    assert check_memory("experiment 'x'", [Need("n", 10**20, ("n",))]) == 8 * 10**20


def test_params_refuses_an_instance_the_memory_cannot_hold(monkeypatch):
    """The base class refuses in params(): every experiment, whoever validates (check, search, sweep, replay)."""
    import ratecheck.verify.resources as r

    exp = all_experiments()["ef21"]
    p = exp.params({})
    need = exp.memory_bytes(p)
    monkeypatch.setattr(r, "available_memory", lambda: need - 1)
    with pytest.raises(UsageError, match="experiment 'ef21': this instance needs about"):
        exp.params({})
    monkeypatch.setattr(r, "available_memory", lambda: need)
    assert exp.params({}) == p


def test_every_experiment_states_its_memory_and_default_instances_are_small():
    from ratecheck import theorems

    for name, exp in all_experiments().items():
        assert type(exp).memory_needs is not Experiment.memory_needs, f"{name} states no memory estimate"
        assert exp.memory_needs(exp.params({})), name
    for c in (*theorems.all(), *theorems.teeth()):
        if not c.measure:
            continue
        exp = all_experiments()[c.experiment]
        for quick in (True, False):
            for inst in exp.instances(c, quick=quick):
                assert exp.memory_bytes(exp.schema.validate_params(inst)) < 1e9, (c.id, inst)
