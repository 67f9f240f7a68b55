"""How long does ``import autograd, nn`` take, on top of NumPy's own import?

Each round starts fresh interpreters in alternating order: ``python -c "import numpy"`` and
``python -c "import autograd, nn"`` (which imports NumPy too). Two measures:

  process   wall time of the whole process, start-up to exit, as a user running a script feels it;
            the library's cost is the difference between the two processes.
  in-process  ``perf_counter`` around ``import autograd, nn`` after ``import numpy`` inside one process
            (start-up and shutdown excluded).

Target (issue 9): ``import autograd, nn`` <= NumPy's import + 60 ms. Reported for both measures, as the
minimum and the median over rounds.

    python benchmarks/import_time.py [--rounds 9] [--top 12] [--no-cache]

``--top`` lists the slowest modules the library pulls in (``python -X importtime``), to show what remains.
``--no-cache`` compiles the library from source on every import (no ``.pyc``), as under PYTHONDONTWRITEBYTECODE.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 60.0
# This checkout, installed or not; and compiled bytecode cached (in a temporary prefix, not the source tree), as
# an installed package has it. With PYTHONDONTWRITEBYTECODE set (some sandboxes set it), every import would
# compile the library from source, which NumPy (installed with its .pyc files) never pays. --no-cache measures that.
CACHE = tempfile.mkdtemp(prefix="backproplab-pycache-")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=CACHE)

NUMPY_ONLY = "import numpy"
LIBRARY = "import autograd, nn"
IN_PROCESS = ("import time; import numpy; t = time.perf_counter(); import autograd, nn; "
              "print(time.perf_counter() - t)")


def wall_ms(code: str) -> float:
    """Milliseconds for a fresh interpreter to run ``code`` and exit."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=ENV)
    return (time.perf_counter() - t0) * 1e3


def in_process_ms() -> float:
    out = subprocess.run([sys.executable, "-c", IN_PROCESS], capture_output=True, text=True, check=True, cwd=ROOT,
                         env=ENV)
    return float(out.stdout) * 1e3


def slowest_modules(top: int) -> list[tuple[float, str]]:
    """The modules imported by ``import autograd, nn`` after NumPy, by cumulative time (ms)."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import numpy; import autograd, nn"],
                         capture_output=True, text=True, check=True, cwd=ROOT, env=ENV).stderr
    lines = err.splitlines()
    # importtime prints a module after the modules it imports; numpy's block ends at the line for numpy itself.
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| numpy")) + 1
    rows = []
    for line in lines[start:]:
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():  # skips the header line
            rows.append((int(parts[1]) / 1e3, parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def stats(xs: list[float]) -> str:
    return f"min {min(xs):6.1f} ms  median {statistics.median(xs):6.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="import time of autograd + nn against numpy")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--top", type=int, default=12, help="list this many slowest modules (0: none)")
    parser.add_argument("--no-cache", action="store_true", help="compile from source on every import (no .pyc)")
    args = parser.parse_args(argv)
    if args.no_cache:  # NumPy still finds its installed .pyc files; the library compiles every time
        ENV["PYTHONDONTWRITEBYTECODE"] = "1"
        del ENV["PYTHONPYCACHEPREFIX"]
    else:
        wall_ms(LIBRARY)  # compile once into the cache
    numpy_ms, lib_ms, diff_ms, inside_ms = [], [], [], []
    for r in range(args.rounds):
        if r % 2 == 0:
            numpy_ms.append(wall_ms(NUMPY_ONLY))
            lib_ms.append(wall_ms(LIBRARY))
        else:
            lib_ms.append(wall_ms(LIBRARY))
            numpy_ms.append(wall_ms(NUMPY_ONLY))
        diff_ms.append(lib_ms[-1] - numpy_ms[-1])  # paired within the round
        inside_ms.append(in_process_ms())
    how = "compiling from source each time" if args.no_cache else "bytecode cached"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}, {args.rounds} rounds, fresh interpreters, {how}")
    print(f"  python -c 'import numpy'            {stats(numpy_ms)}")
    print(f"  python -c 'import autograd, nn'     {stats(lib_ms)}")
    print(f"  difference (paired per round)       {stats(diff_ms)}")
    print(f"  in-process, after numpy             {stats(inside_ms)}")
    extra = min(lib_ms) - min(numpy_ms)
    print(f"  target: library <= numpy + {TARGET_MS:.0f} ms -> process +{extra:.1f} ms (of minima), "
          f"+{statistics.median(diff_ms):.1f} ms (median difference); in-process {min(inside_ms):.1f} ms: "
          f"{'met' if max(extra, min(inside_ms)) <= TARGET_MS else 'NOT met'}")
    if args.top:
        print("  slowest modules imported after numpy (cumulative ms, python -X importtime):")
        for ms, name in slowest_modules(args.top):
            print(f"    {ms:7.1f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
