"""Hostile input files for every YAML reader we have (rule files, playbooks, the priority file, config),
generated, never stored: alias bombs, depth, size, digits, unicode, NaN, recursion, binary, huge ints...

Each case is ``(name, loader, bytes)``; the loaders are named as :mod:`tests.hostile_worker` runs them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from pmo_gates.rca.playbook import PLAYBOOKS_DIR

LOADERS = ("rules", "playbook", "priority", "config")


@dataclass(frozen=True)
class Case:
    name: str
    loader: str
    content: bytes


RULE = """\
pack: establishment
settings:
  limit: SCALAR
rules:
  - id: hostile
    title: Hostile
    description: A rule under attack.
    severity: high
    check: EXPR
    examples:
      - name: example
        facts: {cpi: FACT, phase: execution}
        expect: pass
"""
CONFIG = """\
jira:
  url: https://example.atlassian.net
  read_timeout: SCALAR
portfolio:
  projects: [ALPHA]
"""


def _bases() -> dict[str, str]:
    rca = (PLAYBOOKS_DIR / "rca.yaml").read_text(encoding="utf-8")
    priority = (PLAYBOOKS_DIR / "priority.yaml").read_text(encoding="utf-8")
    assert "  slip_days: 14" in rca and "    weight: 40\n" in priority and "    value: strategic_value\n" in priority
    return {
        "rules": RULE.replace("FACT", "1.5"),
        "playbook": rca.replace("  slip_days: 14", "  slip_days: SCALAR", 1),
        "priority": priority.replace("    weight: 40\n", "    weight: SCALAR\n", 1).replace(
            "    value: strategic_value\n", "    value: EXPR\n", 1
        ),
        "config": CONFIG,
    }


def _laughs(levels: int, width: int, flow_map: bool = False) -> str:
    """Each anchor aliases the previous one ``width`` times: ``width ** levels`` leaves from a few lines."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        refs = [f"*l{level - 1}"] * width
        body = "{" + ", ".join(f"k{i}: {r}" for i, r in enumerate(refs)) + "}" if flow_map else f"[{', '.join(refs)}]"
        lines.append(f"l{level}: &l{level} {body}")
    return "\n".join(lines) + "\n"


def whole_files() -> Iterator[tuple[str, bytes]]:
    """Files hostile as a whole, whatever reader gets them."""
    rng = random.Random(10)
    text = {
        "alias-bomb-list": _laughs(9, 9),
        "alias-bomb-map": _laughs(8, 9, flow_map=True),
        "alias-bomb-nested": "settings:\n  " + _laughs(9, 9).replace("\n", "\n  "),
        "alias-simple": "a: &x 1\nb: *x\n",
        "alias-as-key": "a: &k name\n*k : value\n",
        "alias-recursive-list": "a: &r [1, *r]\n",
        "alias-recursive-map": "a: &r\n  self: *r\n",
        "alias-merge-key": "base: &b {x: 1}\nchild:\n  <<: *b\n  y: 2\n",
        "alias-undefined": "a: *nowhere\n",
        "anchors-without-aliases": "pack: &p establishment\nsettings: &s {x: 1}\n",
        "deep-flow-list-5000": "x: " + "[" * 5000 + "]" * 5000 + "\n",
        "deep-flow-map-5000": "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
        "deep-block-list-5000": "x:\n" + "- " * 5000 + "1\n",
        "deep-block-map-200": "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "end\n",
        "deep-flow-51": "x: " + "[" * 50 + "]" * 50 + "\n",
        "deep-flow-48": "x: " + "[" * 48 + "]" * 48 + "\n",
        "deep-unclosed-5000": "x: " + "[" * 5000 + "\n",
        "size-2mb-comment": "# " + "x" * 2_000_000 + "\n",
        "size-1mb-scalar": "x: '" + "y" * 1_000_001 + "'\n",
        "size-900kb-scalar": "x: '" + "y" * 900_000 + "'\n",
        "size-900kb-line": "x: [" + ", ".join(["1"] * 300_000)[:899_000] + "]\n",
        "nodes-250k": "x: [" + ",".join(["0"] * 250_000) + "]\n",
        "keys-60k": "".join(f"k{i}: {i}\n" for i in range(60_000)),
        "long-key-100kb": "k" * 100_000 + ": 1\n",
        "many-anchors": "".join(f"a{i}: &n{i} {i}\n" for i in range(20_000)),
        "multi-document": "a: 1\n---\nb: 2\n",
        "empty": "",
        "only-comments": "# nothing here\n# at all\n",
        "top-scalar": "just a string\n",
        "top-list": "- 1\n- 2\n",
        "top-null": "~\n",
        "top-huge-int": "9" * 5000 + "\n",
        "top-nan": ".nan\n",
        "passwd": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
        "secrets": "db_password: hunter2\naws_secret_access_key: wJalrXUtnFEMI/K7MDENG\n",
        "ini-file": "[section]\nkey = value\npassword = hunter2\n",
        "json-object": '{"password": "hunter2", "nested": {"a": [1, 2, 3]}}\n',
        "python-object-tag": "x: !!python/object/apply:os.system ['echo pwned']\n",
        "python-name-tag": "x: !!python/name:os.system\n",
        "binary-tag": "x: !!binary aGVsbG8=\n",
        "set-tag": "x: !!set {a, b}\n",
        "omap-tag": "x: !!omap [{a: 1}, {b: 2}]\n",
        "custom-tag": "x: !secret value\n",
        "tag-directive": "%TAG !e! tag:example.com,2000:\n---\nx: !e!thing 1\n",
        "yaml-1.1-directive": "%YAML 1.1\n---\nx: yes\n",
        "complex-key": "? [a, b]\n: c\n",
        "mapping-key": "? {a: 1}\n: c\n",
        "null-key": "~: x\n",
        "int-key": "1: x\n2: y\n",
        "bool-key": "true: x\n",
        "duplicate-keys": "a: 1\na: 2\n",
        "tab-indent": "a:\n\tb: 1\n",
        "unclosed-quote": "a: 'never closed\n",
        "unclosed-flow": "a: [1, 2\n",
        "bad-indent": "a:\n  b: 1\n c: 2\n",
        "surrogate-escape": 'a: "\\ud800"\n',
        "max-codepoint": 'a: "\\U0010FFFF"\n',
        "bad-escape": 'a: "\\q"\n',
        "rtl-override-key": "pa\u202eck: establishment\n",
        "zero-width-key": "pa\u200bck: establishment\n",
        "homoglyph-key": "p\u0430ck: establishment\n",
        "nbsp-indent": "a:\n\u00a0\u00a0b: 1\n",
        "emoji-keys": "\U0001f4a3: \U0001f4a5\n",
        "timestamp-invalid": "a: 2024-13-45\n",
        "timestamp-feb-30": "a: 2024-02-30\n",
        "huge-int-value": "a: " + "9" * 4300 + "\n",
        "huge-hex": "a: 0x" + "f" * 4000 + "\n",
        "huge-float-text": "a: 1." + "0" * 5000 + "1\n",
        "float-overflow": "a: 1e400\n",
        "crlf-lines": "a: 1\r\nb: 2\r\n",
        "cr-only-lines": "a: 1\rb: 2\r",
    }
    for name, body in text.items():
        yield name, body.encode("utf-8")
    yield "bom-utf8", b"\xef\xbb\xbf" + b"pack: establishment\n"
    yield "utf16", "pack: establishment\n".encode("utf-16")
    yield "invalid-utf8-middle", b"pack: establishment\nsettings:\n  x: '\xff\xfe'\n"
    yield "nul-bytes", b"pack: establishment\x00\x00\n"
    yield "control-chars", b"pack: \x07\x08\x1b[31m red\n"
    yield "png-header", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(512))
    yield "gzip-header", b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(512))
    yield "random-bytes", bytes(rng.randrange(256) for _ in range(4096))
    yield "random-ascii", bytes(rng.randrange(32, 127) for _ in range(4096))
    yield "elf-header", b"\x7fELF\x02\x01\x01" + bytes(64)


SCALARS = {
    "nan": ".nan",
    "nan-caps": ".NaN",
    "inf": ".inf",
    "inf-plus": "+.inf",
    "inf-minus": "-.inf",
    "float-overflow": "1e400",
    "float-overflow-neg": "-1e999",
    "float-underflow": "1e-400",
    "int-4300-digits": "9" * 4300,
    "int-5000-digits": "9" * 5000,
    "int-33-digits": "9" * 33,
    "int-20-digits": "9" * 20,
    "int-hex-long": "0x" + "f" * 40,
    "int-octal-long": "0o" + "7" * 40,
    "int-underscores": "1_000_000",
    "negative-zero": "-0.0",
    "timestamp-invalid": "2024-13-45",
    "timestamp-far": "9999-12-31T23:59:59Z",
    "superscript-two": "²",
    "circled-one": "①",
    "arabic-indic-three": "٣",
    "fullwidth-one": "１",  # noqa: RUF001
    "surrogate": '"\\ud800"',
    "long-string": "'" + "x" * 1001 + "'",
    "nested-list": "[1, [2, [3]]]",
    "mapping": "{a: 1}",
    "binary": "!!binary aGVsbG8=",
    "null": "null",
    "bool": "true",
    "alias": "*nowhere",
}

EXPRESSIONS = {
    "digit-superscript": "cpi > ²",
    "digit-circled": "cpi > ①",
    "digit-arabic-indic": "cpi > ٣",
    "digit-devanagari": "cpi > ३",
    "digit-fullwidth": "cpi > １",  # noqa: RUF001
    "digit-mathematical": "cpi > \U0001d7d9",
    "number-25-digits": "cpi > 9999999999999999999999999",
    "number-4300-digits": "cpi > 1" + "0" * 4300,
    "number-exponent": "cpi > 1e400",
    "number-huge": "cpi > 9999999999999999.5",
    "parens-1000": "(" * 1000 + "cpi > 1" + ")" * 1000,
    "parens-unbalanced": "(" * 60 + "cpi > 1",
    "not-1000": "not " * 1000 + "(cpi > 1)",
    "minus-3000": "cpi > " + "-" * 3000 + "1",
    "bang-1000": "!" * 1000 + "(cpi > 1)",
    "lists-1000": "[" * 1000 + "]" * 1000 + " == []",
    "list-2000-items": "cpi in [" + ", ".join(["1"] * 2000) + "]",
    "string-3000": "phase == '" + "x" * 3000 + "'",
    "string-surrogate": "phase == '\\ud800'",
    "string-nul": "phase == '\\u0000'",
    "dunder-attribute": "settings.__class__ == 1",
    "dunder-import": "__import__('os') == 1",
    "python-lambda": "(lambda: 1)() == 1",
    "attribute-on-fact": "cpi.real > 1",
    "division-by-zero": "cpi / 0 > 1",
    "round-huge": "round(cpi, 99999999999) > 1",
    "date-overflow": "today() + 999999999999 > today()",
    "huge-multiplication": "cpi * 999999999999999 * 999999999999999 * 999999999999999 > 1",
    "rtl-override": "cpi \u202e> 1",
    "zero-width-space": "cpi\u200b > 1",
    "homoglyph-name": "\u0441pi > 1",
    "too-long": "cpi > 1 && " * 500 + "true",
}


def _yaml_string(expression: str) -> str:
    return "'" + expression.replace("'", "''") + "'"


def cases() -> list[Case]:
    bases = _bases()
    out: list[Case] = []
    for name, content in whole_files():
        for loader in LOADERS:
            out.append(Case(f"{loader}-{name}", loader, content))
    for name, scalar in SCALARS.items():
        for loader, base in bases.items():
            text = base.replace("SCALAR", scalar).replace(
                "EXPR", "cpi > settings.limit" if loader == "rules" else "cpi"
            )
            out.append(Case(f"{loader}-scalar-{name}", loader, text.encode("utf-8")))
        fact = (
            bases["rules"].replace("SCALAR", "1").replace("EXPR", "cpi > 1").replace("{cpi: 1.5,", f"{{cpi: {scalar},")
        )
        out.append(Case(f"rules-example-fact-{name}", "rules", fact.encode("utf-8")))
    for name, expression in EXPRESSIONS.items():
        for loader in ("rules", "priority"):
            base = bases[loader].replace("SCALAR", "1" if loader == "rules" else "40")
            out.append(Case(f"{loader}-expr-{name}", loader, base.replace("EXPR", _yaml_string(expression)).encode()))
    return out
