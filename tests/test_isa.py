"""tools/isa.py: the AVX2 caps of `tools/benchmark.py --isa=avx2`, and the checks
that say whether each applied."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import isa


def test_capped_env_keeps_other_xla_flags_and_caps_every_library():
    env = isa.capped_env("avx2", base={"XLA_FLAGS": "--xla_cpu_enable_fast_math=false", "PATH": "/bin"})
    assert env["XLA_FLAGS"] == "--xla_cpu_enable_fast_math=false --xla_cpu_max_isa=AVX2"
    assert env["ONEDNN_MAX_CPU_ISA"] == "AVX2" and env["ATEN_CPU_CAPABILITY"] == "avx2"
    assert env["PATH"] == "/bin"
    assert isa.capped_env("native", base={"PATH": "/bin"}) == {"PATH": "/bin"}


def test_onednn_verbose_isa_line_is_read():
    out = "x\nonednn_verbose,v1,info,cpu,isa:Intel AVX2\nonednn_verbose,v1,primitive,exec\n"
    assert isa._onednn_isa(out) == "Intel AVX2"
    assert isa._onednn_isa("dnnl_verbose,info,cpu,isa:Intel AVX-512 with AVX512BW\n") is None
    assert isa._onednn_isa("onednn_verbose,info,cpu,isa:Intel AVX-512 with AVX512BW\n") == (
        "Intel AVX-512 with AVX512BW")


GOOD = {"onednn_isa_tensorflow": "Intel AVX2", "onednn_isa_torch": "Intel AVX2",
        "xla_cpu_max_isa": "AVX2", "xla_zmm_instructions": 0, "torch_cpu_capability": "AVX2"}


@pytest.mark.parametrize("key, value, problem", [
    ("onednn_isa_tensorflow", "Intel AVX-512 with AVX512BW", "TensorFlow's oneDNN"),
    ("onednn_isa_torch", None, "PyTorch's oneDNN"),
    ("xla_cpu_max_isa", None, "XLA parsed"),
    ("xla_zmm_instructions", 12, "zmm"),
    ("torch_cpu_capability", "AVX512", "PyTorch dispatches"),
])
def test_a_cap_not_seen_to_apply_is_reported(key, value, problem):
    assert isa._judge("avx2", GOOD, torch=True) == (True, [])
    applied, problems = isa._judge("avx2", {**GOOD, key: value}, torch=True)
    assert not applied and len(problems) == 1 and problem in problems[0]


def test_unknown_zmm_count_is_not_a_failure_but_torch_is_only_checked_when_asked():
    assert isa._judge("avx2", {**GOOD, "xla_zmm_instructions": None}, torch=True)[0]
    assert isa._judge("avx2", {**GOOD, "torch_cpu_capability": None, "onednn_isa_torch": None},
                      torch=False)[0]


@pytest.mark.slow
def test_caps_apply_on_this_machine():
    evidence = isa.verify("avx2", torch=False)
    assert evidence["applied"], evidence["problems"]
