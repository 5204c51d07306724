"""Pure parts: the safe expression evaluator, specs from docstrings, front matter."""

from __future__ import annotations

import pytest

from owui.agent.expressions import CONDITION, MATH, ExpressionError, evaluate
from owui.agent.model_extras import ModelExtras, extras_of
from owui.agent.plugins.source import front_matter
from owui.agent.plugins.specs import parse_docstring, spec_of
from owui.agent.tools.builtin import calculator


def test_calculator() -> None:
    assert calculator("(3 + 4) * 2 ** 10") == "7168"
    assert calculator("sqrt(16) + floor(2.7)") == "6"
    assert calculator("10 / 4") == "2.5"


@pytest.mark.parametrize("expression", [
    "__import__('os').system('true')", "(1).__class__", "[x for x in range(3)]",
    "lambda: 1", "9 ** 9 ** 9", "'a' * 10 ** 9", "open('/etc/passwd')", "1 +",
])
def test_refused_expressions(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, MATH)


def test_conditions_read_values() -> None:
    values = {**CONDITION, "hits": [{"score": 0.9}], "answer": "24", "meta": {"ok": True}}
    assert evaluate("len(hits) > 0 and hits[0]['score'] > 0.5", values) is True
    assert evaluate("int(answer) > 10 and meta.ok", values) is True
    assert evaluate("'x' in answer or not meta.ok", values) is False


def test_specs_from_docstrings() -> None:
    def lookup(term: str, limit: int = 5, __user__: dict | None = None) -> str:
        """
        Look a term up.

        :param term: What to look up.
        :param limit: At most this many.
        :return: the findings
        """
        return term

    spec = spec_of("lookup", lookup)
    assert spec.injected == {"__user__"}
    assert spec.openai()["description"] == "Look a term up."
    assert spec.openai()["parameters"]["required"] == ["term"]
    assert spec.check({"term": "x", "limit": "3"}) == {"term": "x", "limit": 3}
    with pytest.raises(ValueError, match="term"):
        spec.check({"limit": 1})
    assert parse_docstring(None) == ("", {})


def test_front_matter() -> None:
    source = '"""\ntitle: Weather\nauthor: Ada\nrequirements: requests\n"""\nx = 1\n'
    assert front_matter(source) == {"title": "Weather", "author": "Ada",
                                    "requirements": "requests"}
    assert front_matter("x = 1") == {}


def test_a_presets_knowledge_and_filters() -> None:
    """The model editor's items (collections, files, notes), the older collection_name(s)
    ones, and what is not an item, each collection and file once."""
    meta = {"knowledge": [{"type": "collection", "id": "k1", "name": "Docs"},
                          {"type": "file", "id": "f1"}, {"type": "note", "id": "n1"},
                          {"collection_name": "old"}, {"collection_names": ["a", "b", 3]},
                          {"id": "k2"}, {"type": "collection", "id": "k1"}, "junk", None],
            "filterIds": ["f", "f", 7, "g"]}
    assert extras_of(meta) == ModelExtras(("k1", "old", "a", "b", "k2"), ("f1",), ("f", "g"))
    assert extras_of({"knowledge": "all", "filterIds": "f"}) == ModelExtras()
