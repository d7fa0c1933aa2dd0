"""locate(): each kind of evidence an issue gives leads to the right file, and none alone is required."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.index import Index, locate
from freehold.index.issue import read_issue

FILES = {
    "geo/__init__.py": "from geo.shapes import Circle, Polygon\n",
    "geo/shapes.py": (
        "class Circle:\n    def area(self):\n        return 3.14159 * self.radius ** 2\n\n\n"
        "class Polygon:\n    def perimeter(self):\n        return sum(side.length for side in self.sides)\n"
    ),
    "geo/separable.py": (
        "from geo.shapes import Polygon\n\n\ndef separability_matrix(model):\n"
        "    \"\"\"Which outputs depend on which inputs.\"\"\"\n    return _coord_matrix(model)\n\n\n"
        "def _coord_matrix(model):\n    return [[True]]\n"
    ),
    "geo/render.py": "from geo.shapes import Circle\n\n\ndef draw(shape):\n    return shape.area()\n",
    "geo/io/reader.py": "import json\n\n\ndef read_shapes(path):\n    with open(path) as f:\n        return json.load(f)\n",
    "geo/tests/test_separable.py": (
        "from geo.separable import separability_matrix\n\n\ndef test_separability_matrix_nested():\n"
        "    assert separability_matrix(None) == [[True]]\n"
    ),
    "docs/separability.rst": "The separability matrix tells which outputs depend on which inputs.\n",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("geo")
    for rel, content in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    index = Index.open(root, tmp_path_factory.mktemp("home"))
    index.update()
    yield index
    index.close()


def top(index: Index, issue: str) -> str:
    found = locate(index, issue, top=5)
    assert found, "locate found nothing"
    return found[0].path


def test_an_identifier_in_code_leads_to_the_file_defining_it_not_its_test_or_docs(index: Index) -> None:
    issue = "`separability_matrix` is wrong for nested models:\n```python\n>>> separability_matrix(m)\n```"
    ranked = [hit.path for hit in locate(index, issue, top=10)]
    assert ranked[0] == "geo/separable.py"
    assert ranked.index("geo/tests/test_separable.py") > 0 and ranked.index("docs/separability.rst") > 0


def test_words_in_prose_alone_lead_through_full_text_search(index: Index) -> None:
    assert top(index, "The perimeter of a polygon is computed from the length of its sides, but") == "geo/shapes.py"


def test_a_traceback_leads_to_its_innermost_frame_in_the_repository(index: Index) -> None:
    issue = (
        "Traceback (most recent call last):\n"
        '  File "/home/me/app.py", line 3, in <module>\n'
        '  File "/usr/lib/python3/site-packages/geo/render.py", line 5, in draw\n'
        '  File "/usr/lib/python3/site-packages/geo/io/reader.py", line 6, in read_shapes\n'
        "json.decoder.JSONDecodeError: Expecting value"
    )
    ranked = [hit.path for hit in locate(index, issue, top=3)]
    assert ranked[:2] == ["geo/io/reader.py", "geo/render.py"]


def test_a_named_path_and_an_import_line_lead_to_their_files(index: Index) -> None:
    assert top(index, "Something odd in geo/io/reader.py when the file is empty.") == "geo/io/reader.py"
    assert top(index, "from geo.render import draw\nfails with a shape that has no area") == "geo/render.py"


def test_owner_dot_member_prefers_the_member_defined_in_that_owner(index: Index) -> None:
    assert top(index, "Circle.area() returns the wrong value for large radii") == "geo/shapes.py"


def test_an_issue_that_points_at_nothing_finds_nothing_rather_than_noise(index: Index) -> None:
    assert locate(index, "zzz qqq", top=5) == []
    assert locate(index, "", top=5) == []


def test_scores_are_descending_and_top_is_honoured(index: Index) -> None:
    found = locate(index, "separability matrix of a polygon circle area shapes", top=3)
    assert len(found) == 3
    assert [hit.score for hit in found] == sorted((hit.score for hit in found), reverse=True)


def test_reading_an_issue_tells_code_from_prose() -> None:
    refs = read_issue("The `QuerySet.filter` call\n```\nqs.filter(name__in=[])\n```\nfilter the models please")
    assert refs.names["filter"] > refs.names["models"] > 0
    assert ("QuerySet", "filter") in refs.qualified
