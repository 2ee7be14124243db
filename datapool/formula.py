"""A small, safe expression language for indicators and derived columns.

Formulas are arithmetic over variable keys and numbers, e.g.
``(E_EU1 + E_E1U6 + E_E6U15 + E_E15U18) / E_E * 100``. They are parsed with
Python's ``ast`` module and only numbers, names, + - * / and parentheses are
accepted; nothing is ever evaluated by ``eval``.

Numbers stay finite: a literal beyond the range of a float (``1e999``, a
400-digit number) is refused when the formula is parsed, and a result that
overflows while evaluating (``E_E * 1e300 * 1e300``) or is undefined
(``inf - inf``) becomes ``None`` — shown as missing like a division by zero —
so that no ``inf`` or ``nan`` ever reaches an answer (it would be invalid JSON).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping

MAX_LENGTH = 500
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class FormulaError(ValueError):
    """The formula is not valid; the message says why, in German."""


def formula_parse(text: str) -> ast.Expression:
    """Parse and check a formula; raise FormulaError naming the offending part."""
    text = (text or "").strip()
    if not text:
        raise FormulaError("Die Formel ist leer.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"Die Formel ist länger als {MAX_LENGTH} Zeichen.")
    try:
        tree = ast.parse(text.replace(",", "."), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(
            f"Die Formel ist nicht lesbar (Zeichen {exc.offset or '?'}): {text}"
        ) from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Expression | ast.BinOp | ast.UnaryOp | ast.Load):
            if isinstance(node, ast.BinOp) and type(node.op) not in _OPS:
                raise FormulaError("Erlaubt sind nur + - * / und Klammern.")
            if isinstance(node, ast.UnaryOp) and not isinstance(
                node.op, ast.USub | ast.UAdd
            ):
                raise FormulaError("Erlaubt sind nur + - * / und Klammern.")
            continue
        if type(node) in _OPS or isinstance(node, ast.USub | ast.UAdd):
            continue
        if isinstance(node, ast.Constant) and _is_number(node.value):
            if not _finite(node.value):
                raise FormulaError(
                    "Die Zahl "
                    f"„{_shorten(ast.get_source_segment(text, node) or '')}“ "
                    "ist zu groß."
                )
            continue
        if isinstance(node, ast.Name) and _KEY.match(node.id):
            continue
        raise FormulaError(
            "Erlaubt sind nur Variablenschlüssel, Zahlen, + - * / und Klammern "
            f"(nicht: {ast.get_source_segment(text, node) or type(node).__name__})."
        )
    return tree


def _is_number(value: object) -> bool:
    # True and False parse as constants too, but they are no numbers here.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int literal beyond the float range
        return False


def _shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


def formula_variables(text: str) -> list[str]:
    """The variable keys a formula uses, in order of first appearance."""
    names = [n for n in ast.walk(formula_parse(text)) if isinstance(n, ast.Name)]
    seen: list[str] = []
    for node in sorted(names, key=lambda n: (n.lineno, n.col_offset)):
        if node.id not in seen:
            seen.append(node.id)
    return seen


def formula_to_sql(text: str, column: Callable[[str], str]) -> str:
    """SQL for the formula; division by zero yields NULL, not an error."""

    def emit(node: ast.AST) -> str:
        if isinstance(node, ast.Expression):
            return emit(node.body)
        if isinstance(node, ast.BinOp):
            left, right = emit(node.left), emit(node.right)
            if isinstance(node.op, ast.Div):
                return f"({left} / NULLIF({right}, 0))"
            return f"({left} {_OPS[type(node.op)]} {right})"
        if isinstance(node, ast.UnaryOp):
            return (
                f"(-{emit(node.operand)})"
                if isinstance(node.op, ast.USub)
                else emit(node.operand)
            )
        if isinstance(node, ast.Constant):
            return repr(float(node.value))
        if isinstance(node, ast.Name):
            return column(node.id)
        raise FormulaError("ungültiger Ausdruck")  # pragma: no cover - parse checked

    return emit(formula_parse(text))


def formula_evaluate(text: str, values: Mapping[str, float | None]) -> float | None:
    """The formula's finite value; None if an input is missing or not finite, or
    the result divides by zero or overflows."""

    def ev(node: ast.AST) -> float | None:
        value = _ev(node)
        # Overflow (1e300 * 1e300) and undefined results (inf - inf) are missing.
        return value if value is None or math.isfinite(value) else None

    def _ev(node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return None if right == 0 else left / right
        if isinstance(node, ast.UnaryOp):
            value = ev(node.operand)
            return (
                None
                if value is None
                else (-value if isinstance(node.op, ast.USub) else value)
            )
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            value = values.get(node.id)
            return None if value is None else float(value)
        return None  # pragma: no cover

    return ev(formula_parse(text))
