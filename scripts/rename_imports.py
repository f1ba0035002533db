"""One-off (kept for branches made before it): impl/reference/properties imports -> layer_crosscheck.*.

python scripts/rename_imports.py FILE...   rewrites the files in place (idempotent).
"""

import re
import sys

PKG = r"(impl|reference|properties)"
RULES = [
    # import impl, reference  ->  from layer_crosscheck import impl, reference
    (re.compile(rf"^(\s*)import ({PKG}(?:\s*,\s*{PKG})*)\s*$", re.M), r"\1from layer_crosscheck import \2"),
    (re.compile(rf"^(\s*)from {PKG}([.\s])", re.M), r"\1from layer_crosscheck.\2\3"),
    # module paths in strings: "impl:Relu", "properties.specs.x", -m properties
    (re.compile(rf"([\"'`]){PKG}([.:][A-Za-z_])"), r"\1layer_crosscheck.\2\3"),
    (re.compile(rf"([\"'`]){PKG}([\"'`])"), None),  # left alone: bare names (directories, columns)
    (re.compile(rf"(-m |-p )({PKG})\b"), r"\1layer_crosscheck.\2"),
    (re.compile(rf"(python -m\s+){PKG}\b"), r"\1layer_crosscheck.\2"),
]


def rewrite(text: str) -> str:
    for pattern, repl in RULES:
        if repl is not None:
            text = pattern.sub(repl, text)
    return text.replace("layer_crosscheck.layer_crosscheck.", "layer_crosscheck.")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            old = f.read()
        new = rewrite(old)
        if new != old:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print("rewrote", path)
