"""Times ganzoo's FID against the usual scipy.linalg.sqrtm computation.

    python tools/benchmark_metrics.py [--n=10000 --dim=2048 --seed=0 --json=PATH]

Both timings cover statistics + distance on the same two feature sets in the
same process; the target is ours <= 3 s for 10,000 x 2048 on 2 CPU cores.
Ours is the best of --repeats runs, the sqrtm reference a single run.
Other tools can call ``benchmark_fid(n, dim, seed)`` directly.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.linalg

# Running as a script puts tools/ (not the repository root) on sys.path.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from ganzoo.metrics import fid_from_features

TARGET_SECONDS = 3.0


def make_features(n, dim, seed):
    """Two correlated, Inception-like (non-negative, float32) feature sets.

    Both are relu(z @ W) with a shared random W, as for features of two image
    sets under one network; the second set's z is scaled and shifted.

    Args:
        n: samples per set.
        dim: feature dimension.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        (features1, features2), float32 arrays of shape (n, dim).
    """
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((dim, dim), dtype=np.float32) / np.sqrt(dim)
    z1 = rng.standard_normal((n, dim), dtype=np.float32)
    z2 = 0.9 * rng.standard_normal((n, dim), dtype=np.float32) + 0.1
    return np.maximum(z1 @ mixing, 0.0), np.maximum(z2 @ mixing, 0.0)


def fid_with_sqrtm(features1, features2):
    """Reference FID as commonly written (np.cov + scipy.linalg.sqrtm).

    Args:
        features1: array of shape (n1, d).
        features2: array of shape (n2, d).

    Returns:
        The FID as a Python float.
    """
    mu1, mu2 = features1.mean(axis=0, dtype=np.float64), features2.mean(axis=0, dtype=np.float64)
    sigma1 = np.cov(features1, rowvar=False)
    sigma2 = np.cov(features2, rowvar=False)
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean).real)


def benchmark_fid(n=10000, dim=2048, seed=0, reference=True, repeats=3):
    """Times ``fid_from_features`` and, optionally, the sqrtm reference.

    Args:
        n: samples per feature set.
        dim: feature dimension.
        seed: seed for the random features.
        reference: also time the scipy.linalg.sqrtm computation (run once:
            it is slow).
        repeats: runs of ours; the best is reported, as other processes
            sharing the CPU only ever add time.

    Returns:
        Dict with the FIDs, seconds, speed-up (sqrtm seconds / ours), relative
        difference, target and environment details (incl. load average, as
        timings on a shared machine depend on it).
    """
    features1, features2 = make_features(n, dim, seed)
    runs = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        ours = fid_from_features(features1, features2)
        runs.append(time.perf_counter() - start)
    ours_seconds = min(runs)
    result = {
        "n": n,
        "dim": dim,
        "seed": seed,
        "fid_ours": ours,
        "seconds_ours": ours_seconds,
        "seconds_ours_runs": runs,
        "target_seconds": TARGET_SECONDS,
        "meets_target": ours_seconds <= TARGET_SECONDS,
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    if reference:
        start = time.perf_counter()
        expected = fid_with_sqrtm(features1, features2)
        reference_seconds = time.perf_counter() - start
        result.update(
            fid_sqrtm=expected,
            seconds_sqrtm=reference_seconds,
            speedup=reference_seconds / ours_seconds,
            relative_difference=abs(ours - expected) / abs(expected),
        )
    return result


def format_table(result):
    """Formats a ``benchmark_fid`` result as a small text table."""
    title = f"FID of two {result['n']} x {result['dim']} feature sets"
    lines = [
        f"{title} (statistics + distance)",
        f"{'method':<24}{'seconds':>10}{'FID':>16}",
        f"{'ganzoo (best of runs)':<24}{result['seconds_ours']:>10.3f}"
        + f"{result['fid_ours']:>16.6f}",
    ]
    if "seconds_sqrtm" in result:
        seconds, fid = result["seconds_sqrtm"], result["fid_sqrtm"]
        lines += [
            f"{'scipy.linalg.sqrtm':<24}{seconds:>10.3f}{fid:>16.6f}",
            f"speed-up vs sqrtm: {result['speedup']:.1f}x",
            f"relative difference: {result['relative_difference']:.2e}",
        ]
    verdict = "met" if result["meets_target"] else "MISSED"
    lines.append(f"target: ours <= {result['target_seconds']:.1f} s ({verdict})")
    lines.append(f"1-min load average at the end: {result['load_average_1min']:.2f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="samples per set")
    parser.add_argument("--dim", type=int, default=2048, help="feature dimension")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--json", help="also write the result as JSON to this path")
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours (best kept)")
    parser.add_argument("--no-reference", action="store_true", help="skip the slow sqrtm reference")
    args = parser.parse_args(argv)
    result = benchmark_fid(
        args.n,
        args.dim,
        args.seed,
        reference=not args.no_reference,
        repeats=args.repeats,
    )
    print(format_table(result))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
