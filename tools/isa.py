"""Instruction-set caps for `tools/benchmark.py --isa=avx2`, and proof that they apply.

Most laptops and many cloud VMs have AVX2 but no AVX-512. A machine with
AVX-512 can run the AVX2 code paths of every library in a benchmark's process
through these environment variables, read when each library starts:

- oneDNN (TensorFlow's and PyTorch's own copies): `ONEDNN_MAX_CPU_ISA=AVX2`;
- XLA:CPU: `XLA_FLAGS=--xla_cpu_max_isa=AVX2`;
- PyTorch's ATen kernels: `ATEN_CPU_CAPABILITY=avx2`.

`verify(env)` checks each one in a fresh process with that environment: the
ISA that oneDNN reports for its primitives (`ONEDNN_VERBOSE`), the capability
PyTorch dispatches to, and for XLA the flag as it parsed it plus the AVX-512
(zmm) instructions in the machine code it generated for a small convolution
step (`objdump` from binutils; without it that count is unknown).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CAPS = {
    "native": {},
    "avx2": {
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
    },
}

_TENSORFLOW_PROBE = """
import tensorflow as tf
x = tf.random.normal((64, 8, 8, 64))
k = tf.random.normal((3, 3, 64, 64))
tf.nn.conv2d(x, k, 1, "SAME").numpy()
tf.matmul(tf.reshape(x, (64, -1)), tf.random.normal((4096, 64))).numpy()
step = tf.function(lambda x, k: tf.reduce_sum(tf.nn.conv2d(x, k, 1, "SAME") ** 2), jit_compile=True)
step(x, k).numpy()
"""

_TORCH_PROBE = """
import json, sys
sys.modules.setdefault("triton", None)  # see tools/torch_peer.py
import torch
x = torch.randn(64, 64, 8, 8, requires_grad=True)
torch.nn.functional.conv2d(x, torch.randn(64, 64, 3, 3), padding=1).square().sum().backward()
print("CAPABILITY=" + json.dumps(torch.backends.cpu.get_cpu_capability()), flush=True)
"""


def capped_env(isa, base=None):
    """`base` (default: this process's environment) with `isa`'s caps; an
    existing XLA_FLAGS keeps its other flags."""
    env = dict(os.environ if base is None else base)
    for name, value in CAPS[isa].items():
        if name == "XLA_FLAGS" and env.get(name):
            value = f"{env[name]} {value}"
        env[name] = value
    return env


def cpu_flags():
    """The CPU's AVX2/AVX-512/AMX flags from /proc/cpuinfo (empty where unknown)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return sorted(f for f in line.split(":", 1)[1].split()
                                  if f.startswith(("avx2", "avx512", "amx")))
    except OSError:
        pass
    return []


def _onednn_isa(output):
    found = re.findall(r"onednn_verbose,(?:v\d+,)?info,cpu,isa:([^,\n]+)", output)
    return found[0].strip() if found else None


def _run(code, env, timeout=300):
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=timeout, check=False)
    return result.returncode, result.stdout + result.stderr


def _instruction_counts(objects):
    """(zmm, ymm) register uses in the disassembly of `objects`, or (None, None)."""
    objdump = shutil.which("objdump")
    if not objdump or not objects:
        return None, None
    text = subprocess.run([objdump, "-d", *objects], capture_output=True, text=True,
                          check=False).stdout
    return text.count("%zmm"), text.count("%ymm")


def verify(isa, torch=True):
    """What each library runs with under `isa`'s caps, checked in fresh processes."""
    env = capped_env(isa)
    env["ONEDNN_VERBOSE"] = "1"
    evidence = {"isa": isa, "env": CAPS[isa], "cpu_flags": cpu_flags()}
    with tempfile.TemporaryDirectory() as dump:
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_dump_to={dump}".strip()
        code, output = _run(_TENSORFLOW_PROBE, env)
        evidence["tensorflow_probe_ok"] = code == 0
        evidence["onednn_isa_tensorflow"] = _onednn_isa(output)
        options = ""
        for path in glob.glob(os.path.join(dump, "*debug_options")):
            with open(path) as f:
                options += f.read()
        parsed = re.findall(r'xla_cpu_max_isa: "([^"]*)"', options)
        evidence["xla_cpu_max_isa"] = parsed[0] if parsed else None
        zmm, ymm = _instruction_counts(glob.glob(os.path.join(dump, "*.o")))
        evidence["xla_zmm_instructions"], evidence["xla_ymm_instructions"] = zmm, ymm
    if torch:
        code, output = _run(_TORCH_PROBE, env)
        evidence["torch_probe_ok"] = code == 0
        capability = re.findall(r"CAPABILITY=(.*)", output)
        evidence["torch_cpu_capability"] = json.loads(capability[0]) if capability else None
        evidence["onednn_isa_torch"] = _onednn_isa(output)
    evidence["applied"], evidence["problems"] = _judge(isa, evidence, torch)
    return evidence


def _judge(isa, evidence, torch):
    """(all caps seen to apply, [what was not]) for a capped `isa`."""
    if isa == "native":
        return True, []
    problems = []
    onednn = [evidence.get("onednn_isa_tensorflow")] + ([evidence.get("onednn_isa_torch")] if torch else [])
    for name, value in zip(("TensorFlow's", "PyTorch's"), onednn):
        if not value or "AVX2" not in value.upper() or "512" in value:
            problems.append(f"{name} oneDNN reports ISA {value!r}, not AVX2")
    if evidence.get("xla_cpu_max_isa") != "AVX2":
        problems.append(f"XLA parsed xla_cpu_max_isa={evidence.get('xla_cpu_max_isa')!r}")
    if evidence.get("xla_zmm_instructions"):
        problems.append(f"XLA's code has {evidence['xla_zmm_instructions']} AVX-512 (zmm) operands")
    if torch and str(evidence.get("torch_cpu_capability")).upper() != "AVX2":
        problems.append(f"PyTorch dispatches to {evidence.get('torch_cpu_capability')!r}, not AVX2")
    return not problems, problems
