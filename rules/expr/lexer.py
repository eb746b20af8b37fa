"""Turns expression source into tokens, rejecting anything outside the language early and clearly."""

from __future__ import annotations

from dataclasses import dataclass

from pmo_gates.rules.expr.errors import ExprError
from pmo_gates.rules.expr.limits import MAX_NUMBER, MAX_NUMBER_CHARS, MAX_SOURCE_CHARS, MAX_STRING_CHARS

KEYWORDS = {"true", "false", "null", "and", "or", "not", "in"}
# Reserved by CEL (and a few Python words): refusing them keeps room for the language to grow and
# gives a clear message to anyone trying to write a program instead of a condition.
RESERVED = {
    "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
    "package", "namespace", "return", "var", "void", "while", "lambda", "def", "class", "from",
    "with", "yield", "global", "exec", "eval", "is", "del", "try", "except", "raise", "async", "await",
}  # fmt: skip

OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", "(", ")",
             "[", "]", ",", "."]  # fmt: skip
MISTAKES = {
    "**": "the power operator '**' is not supported",
    "=": "use '==' to compare",
    "&": "use '&&' (or 'and')",
    "|": "use '||' (or 'or')",
}
DIGITS = "0123456789"  # str.isdigit() also accepts '²', '①', Arabic-Indic and full-width digits
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class Token:
    kind: str  # 'num' | 'str' | 'ident' | 'kw' | 'op' | 'eof'
    value: object
    pos: int
    end: int


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_SOURCE_CHARS:
        raise ExprError(f"expression is longer than {MAX_SOURCE_CHARS} characters", source, MAX_SOURCE_CHARS)
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            i += 1
        elif ch in DIGITS:
            i = _number(source, i, tokens)
        elif ch.isdigit() or ch.isnumeric():
            raise ExprError(f"{ch!r} (U+{ord(ch):04X}) is not an ASCII digit: write numbers with 0-9", source, i)
        elif ch in "'\"":
            i = _string(source, i, tokens)
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            i = _word(source, i, tokens)
        else:
            for mistake, message in MISTAKES.items():
                if source.startswith(mistake, i) and not any(
                    source.startswith(op, i) and len(op) >= len(mistake) for op in OPERATORS
                ):
                    raise ExprError(message, source, i)
            op = next((op for op in OPERATORS if source.startswith(op, i)), None)
            if op is None:
                raise ExprError(f"unexpected character {ch!r}", source, i)
            tokens.append(Token("op", op, i, i + len(op)))
            i += len(op)
    tokens.append(Token("eof", None, n, n))
    return tokens


def _number(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(source)
    while i < n and source[i] in DIGITS:
        i += 1
    is_float = i + 1 < n and source[i] == "." and source[i + 1] in DIGITS
    if is_float:
        i += 1
        while i < n and source[i] in DIGITS:
            i += 1
    if i < n and (source[i].isalnum() or source[i] == "_"):
        raise ExprError(f"malformed number {source[start : i + 1]!r}", source, start)
    text = source[start:i]
    if len(text) > MAX_NUMBER_CHARS:
        raise ExprError(f"number literal is longer than {MAX_NUMBER_CHARS} digits", source, start)
    value: int | float = float(text) if is_float else int(text)
    if abs(value) > MAX_NUMBER:
        raise ExprError(f"number literal {text} is larger than {MAX_NUMBER:g}", source, start)
    tokens.append(Token("num", value, start, i))
    return i


def _string(source: str, start: int, tokens: list[Token]) -> int:
    quote = source[start]
    if source.startswith(quote * 3, start):
        raise ExprError("triple-quoted strings are not supported", source, start)
    i, n = start + 1, len(source)
    chars: list[str] = []
    while True:
        if i >= n or source[i] == "\n":
            raise ExprError("unterminated string", source, start)
        ch = source[i]
        if ch == quote:
            break
        if ch == "\\":
            if i + 1 >= n:
                raise ExprError("unterminated string", source, start)
            code = source[i + 1]
            if code in ESCAPES:
                chars.append(ESCAPES[code])
                i += 2
            elif code == "u" and _is_hex(source[i + 2 : i + 6]):
                if 0xD800 <= int(source[i + 2 : i + 6], 16) <= 0xDFFF:  # half of a UTF-16 pair: no character
                    raise ExprError(f"'\\u{source[i + 2 : i + 6]}' is not a character", source, i)
                chars.append(chr(int(source[i + 2 : i + 6], 16)))
                i += 6
            else:
                raise ExprError(f"unknown escape '\\{code}'", source, i)
        else:
            chars.append(ch)
            i += 1
        if len(chars) > MAX_STRING_CHARS:
            raise ExprError(f"string literal is longer than {MAX_STRING_CHARS} characters", source, start)
    tokens.append(Token("str", "".join(chars), start, i + 1))
    return i + 1


def _is_hex(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


def _word(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(source)
    while i < n and source[i].isascii() and (source[i].isalnum() or source[i] == "_"):
        i += 1
    word = source[start:i]
    if word.startswith("_"):
        raise ExprError(f"names may not start with '_': {word!r}", source, start)
    if word in RESERVED:
        raise ExprError(f"{word!r} is a reserved word, not part of the rule language", source, start)
    tokens.append(Token("kw" if word in KEYWORDS else "ident", word, start, i))
    return i
