"""pickle vs cloudpickle on the shapes the JavaScript suites measure.

Prints one JSON document on stdout: versions, and for each (library,
shape) either the payload size and dumps/loads timings (timeit, several
repeats, measured round by round against pickle's module function so the
ratios are from the same run) or why the library refused the shape.

Usage: python3 reference.py NUMBER REPEAT
"""

import json
import os
import pickle
import platform
import sys
import timeit
import types


def load_jobs():
    """Imports reference_jobs.py under a fixed, relative file name.

    cloudpickle stores a function's code object, which carries its file
    name; compiling under 'reference_jobs.py' keeps payload sizes the same
    in every checkout, so the sizes can be compared exactly across runs.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "reference_jobs.py"), encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType("reference_jobs")
    module.__file__ = "reference_jobs.py"
    sys.modules["reference_jobs"] = module
    exec(compile(source, "reference_jobs.py", "exec"), module.__dict__)
    return module


reference_jobs = load_jobs()

SHAPES = {
    "moduleFunction": reference_jobs.double,
    "lambda": reference_jobs.lambda_double,
    "closure3": reference_jobs.closure3,
}
REFERENCE = ("pickle", "moduleFunction")


def libraries():
    libs = {"pickle": pickle}
    try:
        import cloudpickle

        libs["cloudpickle"] = cloudpickle
    except ImportError:
        pass
    return libs


def main():
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    libs = libraries()
    rows = {}
    for lib_name, lib in libs.items():
        for shape, fn in SHAPES.items():
            key = (lib_name, shape)
            try:
                payload = lib.dumps(fn)
                loaded = pickle.loads(payload)
                ok = loaded(21) == fn(21)
                rows[key] = {
                    "library": lib_name,
                    "shape": shape,
                    "status": "works" if ok else "wrong",
                    "bytes": len(payload),
                    "payload": payload,
                    "dumps": [],
                    "loads": [],
                }
            except Exception as error:  # refusal is data, not a crash
                rows[key] = {
                    "library": lib_name,
                    "shape": shape,
                    "status": "refused",
                    "error": type(error).__name__,
                    "reason": str(error).split("\n")[0][:300],
                }

    timed = [k for k, r in rows.items() if r["status"] == "works"]
    # Round by round: every timed row once per round, so each row's ratio
    # to pickle's module function comes from the same moment of the run.
    for _ in range(repeat):
        for key in timed:
            row = rows[key]
            fn = SHAPES[row["shape"]]
            lib = libs[row["library"]]
            payload = row["payload"]
            dumps = timeit.timeit(lambda: lib.dumps(fn), number=number)
            loads = timeit.timeit(lambda: pickle.loads(payload), number=number)
            row["dumps"].append(dumps / number * 1e9)
            row["loads"].append(loads / number * 1e9)

    versions = {"python": platform.python_version()}
    if "cloudpickle" in libs:
        versions["cloudpickle"] = libs["cloudpickle"].__version__
    out_rows = []
    for row in rows.values():
        row.pop("payload", None)
        out_rows.append(row)
    json.dump(
        {
            "versions": versions,
            "number": number,
            "repeat": repeat,
            "reference": {"library": REFERENCE[0], "shape": REFERENCE[1]},
            "pickleProtocol": pickle.DEFAULT_PROTOCOL,
            "rows": out_rows,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
