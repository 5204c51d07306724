"""A small, safe expression evaluator: the calculator tool and workflow branch conditions.

Only literals, arithmetic, comparisons, boolean logic, `in`, subscripts, a few pure functions
and the names given are allowed; anything else (attributes, calls to other names, lambdas,
comprehensions) is refused. Powers and repetitions are bounded so that no expression can take
the service's memory or time.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 2000
MAX_EXPONENT = 10_000
MAX_SEQUENCE = 100_000
MAX_BITS = 1_000_000

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
MATH: dict[str, Any] = {
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan, "log": math.log,
    "log10": math.log10, "log2": math.log2, "exp": math.exp, "abs": abs, "round": round,
    "min": min, "max": max, "floor": math.floor, "ceil": math.ceil, "pi": math.pi,
    "e": math.e, "factorial": lambda n: math.factorial(min(int(n), 1000)),
}
CONDITION: dict[str, Any] = {
    "len": len, "str": str, "int": int, "float": float, "bool": bool, "abs": abs,
    "min": min, "max": max, "lower": lambda s: str(s).lower(), "true": True, "false": False,
    "null": None, "True": True, "False": False, "None": None,
}


class ExpressionError(ValueError):
    """The expression is not allowed or cannot be evaluated; the message says why."""


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if (isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1
            and base.bit_length() * abs(exponent) > MAX_BITS):
        raise ExpressionError("the result would be too large")
    return operator.pow(base, exponent)


def _multiply(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if (isinstance(sequence, str | list | tuple) and isinstance(count, int)
                and len(sequence) * count > MAX_SEQUENCE):
            raise ExpressionError("the result would be too long")
    return operator.mul(left, right)


class _Evaluator:
    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names

    def eval(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise ExpressionError(f"{type(node).__name__} is not allowed")
        return method(node)

    def _Expression(self, node: ast.Expression) -> Any:
        return self.eval(node.body)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id not in self.names:
            raise ExpressionError(f"unknown name '{node.id}'")
        return self.names[node.id]

    def _List(self, node: ast.List) -> Any:
        return [self.eval(item) for item in node.elts]

    def _Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.eval(item) for item in node.elts)

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        kind = type(node.op)
        if kind is ast.Pow:
            result = _power(left, right)
        elif kind is ast.Mult:
            result = _multiply(left, right)
        elif kind in _BINARY:
            result = _BINARY[kind](left, right)
        else:
            raise ExpressionError(f"operator {kind.__name__} is not allowed")
        if isinstance(result, int) and result.bit_length() > MAX_BITS:
            raise ExpressionError("the result would be too large")
        return result

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        if type(node.op) not in _UNARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        return _UNARY[type(node.op)](self.eval(node.operand))

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = isinstance(node.op, ast.And)
        for value in node.values:
            result = self.eval(value)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def _Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Subscript(self, node: ast.Subscript) -> Any:
        return self.eval(node.value)[self.eval(node.slice)]

    def _Attribute(self, node: ast.Attribute) -> Any:
        # `a.b` reads key b of a mapping (workflow values are JSON), never Python attributes.
        value = self.eval(node.value)
        if isinstance(value, Mapping) and node.attr in value:
            return value[node.attr]
        raise ExpressionError(f"no field '{node.attr}'")

    def _Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExpressionError("only calls of the known functions are allowed")
        function = self._Name(node.func)
        if not callable(function):
            raise ExpressionError(f"'{node.func.id}' is not a function")
        return function(*(self.eval(arg) for arg in node.args))


def evaluate(expression: str, names: Mapping[str, Any]) -> Any:
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}") from None
    try:
        return _Evaluator(names).eval(tree)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}") from None
