"""Job functions for the Python reference, shaped like the JavaScript ones.

They live in an importable module so that pickle can store the module
function by reference, exactly as a Python job queue would.
"""

import hashlib


def double(x):
    """Module function: pickle and cloudpickle both store module + name."""
    return x * 2


# Lambda: pickle cannot find it by name; cloudpickle ships its code.
lambda_double = lambda x: x * 2  # noqa: E731


def make_closure3():
    """A closure over three values that also uses an import (hashlib)."""
    prefix = "job"
    rounds = 3
    options = {"encoding": "utf-8", "upper": False}

    def digest(text):
        data = f"{prefix}:{rounds}:{text}".encode(options["encoding"])
        out = hashlib.sha1(data).hexdigest()
        return out.upper() if options["upper"] else out

    return digest


closure3 = make_closure3()
