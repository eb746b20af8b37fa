"""A small JQL parser: tokens -> an abstract syntax tree, with Jira's error messages.

Grammar (the subset the sandbox serves; keywords are case-insensitive)::

    query    := [or_expr] [ORDER BY sort ("," sort)*]
    or_expr  := and_expr ((OR | "||") and_expr)*
    and_expr := not_expr ((AND | "&&") not_expr)*
    not_expr := (NOT | "!") not_expr | "(" or_expr ")" | clause
    clause   := field operator operand
    field    := word | "quoted name" | cf[12345]
    operator := = | != | > | >= | < | <= | ~ | !~ | IN | NOT IN | IS | IS NOT
    operand  := value | "(" value ("," value)* ")" | EMPTY | NULL | function "(" [value ("," value)*] ")"
    sort     := field [ASC | DESC]

Example::

    >>> parse('project = "CPR" AND status != Done ORDER BY updated DESC').order_by
    (SortKey(field='updated', ascending=False),)

Meaning (which fields exist, what values match) is ``jql_eval``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

KEYWORDS = frozenset({"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"})
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~", "!~", "in", "not in", "is", "is not")
_VALID_OPERATORS = "'=', '!=', '~', '!~', '<', '>', '<=', '>=', 'IN', 'NOT IN', 'IS' and 'IS NOT'"
_PUNCT = "=!<>~(),"


class JqlError(ValueError):
    """A query Jira would refuse; ``str()`` is Jira's message."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "punct", "end"
    text: str
    pos: int  # offset into the query

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool
    pos: int


@dataclass(frozen=True)
class Empty:
    pos: int


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...]
    pos: int


Operand = Value | Empty | Function


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str  # one of OPERATORS, lower case
    operands: tuple[Operand, ...]  # one, or several for IN / NOT IN lists
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    field: str
    ascending: bool


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[SortKey, ...]


def parse(text: str) -> Query:
    """Parse a JQL query; raises JqlError with Jira's wording and the line/character of the problem."""
    return _Parser(text).query()


def where_message(text: str, pos: int) -> str:
    """Jira's ``(line L, character C)`` for an offset."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"(line {line}, character {column})"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "\"'":
            start, i, chars = i, i + 1, []
            while i < n and text[i] != ch:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                value = "".join(chars)
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{value}' has not been completed. "
                    + where_message(text, start)
                )
            tokens.append(Token("string", "".join(chars), start))
            i += 1
        elif text.startswith(("!=", ">=", "<=", "!~", "&&", "||"), i):
            two = text[i : i + 2]
            tokens.append(Token("punct" if two in ("&&", "||") else "op", two, i))
            i += 2
        elif ch in "=<>~":
            tokens.append(Token("op", ch, i))
            i += 1
        elif ch in "(),!":
            tokens.append(Token("punct", ch, i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _PUNCT + "\"'" and text[i] not in "&|":
                i += 1
            if i == start:  # a lone '&' or '|'
                raise JqlError(
                    f"Error in the JQL Query: The character '{ch}' is a reserved JQL character. "
                    f"You must enclose it in a string or use the escape '\\u{ord(ch):04x}' instead. "
                    + where_message(text, start)
                )
            tokens.append(Token("word", text[start:i], start))
    tokens.append(Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers ----------------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> JqlError:
        tok = tok or self.tok
        if tok.kind == "end":
            return JqlError(f"Error in the JQL Query: {message}")
        return JqlError(f"Error in the JQL Query: {message} {where_message(self.text, tok.pos)}")

    @staticmethod
    def shown(tok: Token) -> str:
        return "the end of the query" if tok.kind == "end" else f"'{tok.text}'"

    # -- grammar ----------------------------------------------------------------------------------------

    def query(self) -> Query:
        where = None
        if self.tok.kind != "end" and not self._at_order_by():
            where = self.or_expr()
        order_by: tuple[SortKey, ...] = ()
        if self._at_order_by():
            self.i += 2
            order_by = self.sort_list()
        if self.tok.kind != "end":
            raise self.error(f"Expecting either 'OR' or 'AND' but got {self.shown(self.tok)}.")
        return Query(where, order_by)

    def _at_order_by(self) -> bool:
        return self.tok.is_keyword("order") and self.tokens[self.i + 1].is_keyword("by")

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.tok.is_keyword("or") or (self.tok.kind == "punct" and self.tok.text == "||"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.tok.is_keyword("and") or (self.tok.kind == "punct" and self.tok.text == "&&"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.tok.is_keyword("not") or (self.tok.kind == "punct" and self.tok.text == "!"):
            self.advance()
            return Not(self.not_expr())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            node = self.or_expr()
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                if self.tok.kind == "end":
                    raise self.error("Expecting ')' before the end of the query.")
                raise self.error(f"Expecting ')' but got {self.shown(self.tok)}.")
            self.advance()
            return node
        return self.clause()

    def field_name(self) -> Token:
        tok = self.tok
        if tok.kind == "string" or (tok.kind == "word" and tok.text.lower() not in KEYWORDS):
            return self.advance()
        raise self.error(f"Expecting a field name but got {self.shown(tok)}.")

    def clause(self) -> Clause:
        field_tok = self.field_name()
        op_tok = self.tok
        if op_tok.kind == "op":
            operator = self.advance().text
        elif op_tok.is_keyword("in"):
            self.advance()
            operator = "in"
        elif op_tok.is_keyword("not") and self.tokens[self.i + 1].is_keyword("in"):
            self.i += 2
            operator = "not in"
        elif op_tok.is_keyword("is"):
            self.advance()
            operator = "is"
            if self.tok.is_keyword("not"):
                self.advance()
                operator = "is not"
        else:
            raise self.error(
                f"Expecting operator but got {self.shown(op_tok)}. The valid operators are {_VALID_OPERATORS}."
            )
        if operator in ("is", "is not"):
            if not self.tok.is_keyword("empty", "null"):
                raise self.error(
                    f"Expecting 'EMPTY' or 'NULL' after '{operator.upper()}' but got {self.shown(self.tok)}."
                )
            operands: tuple[Operand, ...] = (Empty(self.advance().pos),)
        elif operator in ("in", "not in"):
            operands = self.operand_list()
        else:
            operands = (self.operand(),)
        return Clause(field_tok.text, operator, operands, field_tok.pos)

    def operand_list(self) -> tuple[Operand, ...]:
        if self.tok.kind == "word" and self.tokens[self.i + 1].text == "(":
            return (self.operand(),)  # a list-valued function
        if not (self.tok.kind == "punct" and self.tok.text == "("):
            raise self.error(f"Expecting '(' but got {self.shown(self.tok)}.")
        self.advance()
        values = [self.operand()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            values.append(self.operand())
        if not (self.tok.kind == "punct" and self.tok.text == ")"):
            raise self.error(f"Expecting ')' but got {self.shown(self.tok)}.")
        self.advance()
        return tuple(values)

    def operand(self) -> Operand:
        tok = self.tok
        if tok.is_keyword("empty", "null"):
            self.advance()
            return Empty(tok.pos)
        if tok.kind == "string":
            self.advance()
            return Value(tok.text, True, tok.pos)
        if tok.kind == "word" and tok.text.lower() not in KEYWORDS:
            self.advance()
            if self.tok.kind == "punct" and self.tok.text == "(":
                return self.function_call(tok)
            return Value(tok.text, False, tok.pos)
        if tok.kind == "word":
            raise self.error(
                f"Expecting either a value, list or function but got '{tok.text}'. "
                f"You must surround '{tok.text}' in quotation marks to use it as a value."
            )
        raise self.error(f"Expecting either a value, list or function but got {self.shown(tok)}.")

    def function_call(self, name: Token) -> Function:
        self.advance()  # "("
        args: list[str] = []
        while not (self.tok.kind == "punct" and self.tok.text == ")"):
            if self.tok.kind not in ("word", "string"):
                raise self.error(f"Expecting ')' but got {self.shown(self.tok)}.")
            args.append(self.advance().text)
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
        self.advance()
        return Function(name.text, tuple(args), name.pos)

    def sort_list(self) -> tuple[SortKey, ...]:
        keys = [self.sort_key()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            keys.append(self.sort_key())
        return tuple(keys)

    def sort_key(self) -> SortKey:
        field_tok = self.field_name()
        ascending = True
        if self.tok.is_keyword("asc", "desc"):
            ascending = self.advance().text.lower() == "asc"
        return SortKey(field_tok.text, ascending)
