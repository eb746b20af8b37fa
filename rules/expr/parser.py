"""Recursive-descent parser from tokens to the AST, with CEL's operator precedence.

Lowest to highest: ``a ? b : c``; ``||``/``or``; ``&&``/``and``; ``not`` (keyword, as in Python);
comparisons and ``in`` (not chainable); ``+ -``; ``* / %``; unary ``! -``; calls, methods and
``settings.<name>``.
"""

from __future__ import annotations

from pmo_gates.rules.expr import ast
from pmo_gates.rules.expr.errors import ExprError
from pmo_gates.rules.expr.lexer import Token, tokenize
from pmo_gates.rules.expr.limits import MAX_CALL_ARGS, MAX_DEPTH, MAX_LIST_ITEMS

COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


def parse(source: str) -> ast.Node:
    """Parse ``source`` into an AST or raise :class:`ExprError` at the offending position."""
    if not source.strip():
        raise ExprError("expression is empty", source, 0)
    node = _Parser(source, tokenize(source)).parse()
    if ast.depth(node) > MAX_DEPTH:
        raise ExprError(f"expression is nested more than {MAX_DEPTH} levels deep", source, node.pos)
    return node


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.i = 0
        self.level = 0

    # -- token helpers ------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _is(self, kind: str, *values: str) -> bool:
        tok = self.tok
        return tok.kind == kind and (not values or tok.value in values)

    def _advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def _expect_op(self, op: str, what: str) -> Token:
        if not self._is("op", op):
            raise self._error(f"expected {op!r} {what}, found {self._describe(self.tok)}")
        return self._advance()

    def _error(self, message: str, tok: Token | None = None) -> ExprError:
        return ExprError(message, self.source, (tok or self.tok).pos)

    @staticmethod
    def _describe(tok: Token) -> str:
        if tok.kind == "eof":
            return "end of expression"
        if tok.kind == "str":
            return "a string"
        return repr(tok.value)

    def _enter(self) -> None:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise self._error(f"expression is nested more than {MAX_DEPTH} levels deep")

    # -- grammar ------------------------------------------------------------------------------------
    def parse(self) -> ast.Node:
        node = self._conditional()
        if not self._is("eof"):
            raise self._error(f"unexpected {self._describe(self.tok)} after a complete expression")
        return node

    def _conditional(self) -> ast.Node:
        self._enter()
        cond = self._or()
        if self._is("op", "?"):
            self._advance()
            then = self._conditional()
            self._expect_op(":", "in 'condition ? then : else'")
            other = self._conditional()
            cond = ast.Conditional(cond.pos, cond=cond, then=then, other=other)
        self.level -= 1
        return cond

    def _or(self) -> ast.Node:
        return self._chain("or", ("||", "or"), self._and)

    def _and(self) -> ast.Node:
        return self._chain("and", ("&&", "and"), self._not)

    def _chain(self, op: str, spellings: tuple[str, str], operand: object) -> ast.Node:
        parse_operand = operand  # type: ignore[assignment]
        first = parse_operand()  # type: ignore[operator]
        operands = [first]
        while self._is("op", spellings[0]) or self._is("kw", spellings[1]):
            self._advance()
            operands.append(parse_operand())  # type: ignore[operator]
        return first if len(operands) == 1 else ast.Logical(first.pos, op=op, operands=operands)

    def _not(self) -> ast.Node:
        if self._is("kw", "not"):
            tok = self._advance()
            self._enter()
            operand = self._not()
            self.level -= 1
            return ast.Unary(tok.pos, op="!", operand=operand)
        return self._relation()

    def _relation(self) -> ast.Node:
        left = self._additive()
        op_tok = self.tok
        if self._is("op", *COMPARISONS) or self._is("kw", "in"):
            op = str(self._advance().value)
        elif self._is("kw", "not") and self.tokens[self.i + 1].kind == "kw" and self.tokens[self.i + 1].value == "in":
            self._advance()
            self._advance()
            op = "not in"
        else:
            return left
        right = self._additive()
        if self._is("op", *COMPARISONS) or self._is("kw", "in"):
            raise self._error("comparisons cannot be chained; combine them with '&&'")
        return ast.Binary(left.pos, op=op, left=left, right=right, op_pos=op_tok.pos)

    def _additive(self) -> ast.Node:
        node = self._multiplicative()
        while self._is("op", "+", "-"):
            op_tok = self._advance()
            right = self._multiplicative()
            node = ast.Binary(node.pos, op=str(op_tok.value), left=node, right=right, op_pos=op_tok.pos)
        return node

    def _multiplicative(self) -> ast.Node:
        node = self._unary()
        while self._is("op", "*", "/", "%"):
            op_tok = self._advance()
            right = self._unary()
            node = ast.Binary(node.pos, op=str(op_tok.value), left=node, right=right, op_pos=op_tok.pos)
        return node

    def _unary(self) -> ast.Node:
        if self._is("op", "!", "-"):
            tok = self._advance()
            self._enter()
            operand = self._unary()
            self.level -= 1
            if tok.value == "-" and isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
                return ast.Literal(tok.pos, value=-operand.value)
            return ast.Unary(tok.pos, op=str(tok.value), operand=operand)
        return self._postfix()

    def _postfix(self) -> ast.Node:
        node = self._primary()
        while self._is("op", "."):
            self._advance()
            name_tok = self.tok
            if name_tok.kind != "ident":
                raise self._error(f"expected a name after '.', found {self._describe(name_tok)}")
            self._advance()
            if self._is("op", "("):
                args = self._arguments()
                node = ast.Call(node.pos, name=str(name_tok.value), args=[node, *args], method=True)
            else:
                node = ast.Member(node.pos, obj=node, attr=str(name_tok.value), attr_pos=name_tok.pos)
        return node

    def _arguments(self) -> list[ast.Node]:
        self._expect_op("(", "to start the arguments")
        args: list[ast.Node] = []
        while not self._is("op", ")"):
            args.append(self._conditional())
            if len(args) > MAX_CALL_ARGS:
                raise self._error(f"more than {MAX_CALL_ARGS} arguments")
            if not self._is("op", ","):
                break
            self._advance()
        self._expect_op(")", "to close the arguments")
        return args

    def _primary(self) -> ast.Node:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self._advance()
            return ast.Literal(tok.pos, value=tok.value)
        if tok.kind == "kw" and tok.value in ("true", "false", "null"):
            self._advance()
            return ast.Literal(tok.pos, value={"true": True, "false": False, "null": None}[str(tok.value)])
        if tok.kind == "ident":
            self._advance()
            if self._is("op", "("):
                return ast.Call(tok.pos, name=str(tok.value), args=self._arguments())
            return ast.Name(tok.pos, name=str(tok.value))
        if self._is("op", "("):
            self._advance()
            node = self._conditional()
            self._expect_op(")", "to close '('")
            return node
        if self._is("op", "["):
            return self._list()
        raise self._error(f"expected a value, found {self._describe(tok)}")

    def _list(self) -> ast.Node:
        start = self._advance()
        items: list[ast.Node] = []
        while not self._is("op", "]"):
            items.append(self._conditional())
            if len(items) > MAX_LIST_ITEMS:
                raise self._error(f"list has more than {MAX_LIST_ITEMS} items")
            if not self._is("op", ","):
                break
            self._advance()
        self._expect_op("]", "to close the list")
        return ast.ListLit(start.pos, items=items)
