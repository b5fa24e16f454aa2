"""Citations: CITATION.cff is valid, ``sith cite`` prints BibTeX for sith and for each
theorem's paper (structured references in theory/references.py), reports end with both."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import theory as th
from theory.errors import InvalidArgument
from theory.references import REFERENCES, Reference
from verification import citations
from verification._latex import ascii_accents
from verification.cli import main

ROOT = Path(__file__).resolve().parents[1]


def parse_bibtex(text: str) -> list[dict]:
    """A strict reader of the entries sith writes: @type{key, name = {value}, ...} with
    balanced braces; anything unbalanced fails the test."""
    entries, i = [], 0
    while (at := text.find("@", i)) != -1:
        head = re.match(r"@(\w+)\{([^,\s]+),", text[at:])
        assert head, text[at : at + 80]
        depth, opening = 0, at + text[at:].index("{")
        for j in range(opening, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                break
        assert depth == 0, "unbalanced braces"
        body = text[at + head.end() : j]
        fields, k = {}, 0
        while m := re.compile(r"\s*(\w+)\s*=\s*\{").match(body, k):
            depth, start = 1, m.end()
            for end in range(start, len(body)):
                depth += {"{": 1, "}": -1}.get(body[end], 0)
                if depth == 0:
                    break
            assert depth == 0
            fields[m.group(1)] = body[start:end]
            k = end + 1
            k = body.index(",", k) + 1 if "," in body[k:] else len(body)
        assert not body[k:].strip(), body[k:]
        entries.append({"type": head.group(1), "key": head.group(2), **fields})
        i = j + 1
    return entries


def cite(*args: str):
    return CliRunner().invoke(main, ["cite", *args])


# the Citation File Format 1.2.0 schema (CC-BY-4.0, the citation-file-format project),
# kept as test data: cffconvert, which ships it, pins jsonschema < 4 and cannot be
# installed beside the jsonschema >= 4 that sith's schema tests use
CFF_SCHEMA = Path(__file__).parent / "data" / "citation-file-format-1.2.0.schema.json"


def test_citation_cff_is_valid_and_says_what_sith_cite_says():
    import jsonschema
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(cff)
    broken = {k: v for k, v in cff.items() if k != "authors"}  # "authors" is required
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert cff["title"] == citations.SITH_TITLE
    assert f'\nversion = "{cff["version"]}"\n' in pyproject
    assert f'license = {{ text = "{cff["license"]}" }}' in pyproject
    assert cff["license"] == citations.SITH_LICENSE
    assert [a["name"] for a in cff["authors"]] == [citations.SITH_AUTHOR]


def test_sith_cite_alone_prints_sith():
    result = cite()
    assert result.exit_code == 0, result.output
    (entry,) = parse_bibtex(result.output)
    assert entry["type"] == "misc" and entry["key"] == "sith"
    assert entry["title"] == "{" + citations.SITH_TITLE + "}"


def test_sith_cite_cl_ica_prints_its_paper():
    result = cite("cl-ica")
    assert result.exit_code == 0, result.output
    (entry,) = parse_bibtex(result.output)
    assert entry["type"] == "inproceedings" and entry["key"] == "zimmermann2021contrastive"
    assert entry["author"].split(" and ")[0] == "Zimmermann, Roland S."
    assert entry["title"] == "{Contrastive Learning Inverts the Data Generating Process}"
    assert entry["year"] == "2021" and entry["eprint"] == "2102.08850"
    assert "ICML" in entry["booktitle"]


def test_a_paper_shared_by_two_theorems_is_printed_once_and_accents_are_commands():
    result = cite("cl-ica", "cl-ica-box", "content-style", "multiview")
    assert result.exit_code == 0, result.output
    entries = parse_bibtex(result.output)
    keys = [e["key"] for e in entries]
    assert keys == [
        "zimmermann2021contrastive",
        "vonkugelgen2021self",
        "daunhawer2023identifiability",
        "yao2024multi",
    ]
    assert entries[1]["author"].startswith('von K{\\"u}gelgen, Julius and')
    assert result.output.isascii()


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_every_reference_agrees_with_the_theorems_cite_text(name):
    theorem = th.theorems.get(name)
    assert theorem.references, name
    for ref in theorem.references:
        assert ref.first_author_family.split()[-1] in theorem.cite
        assert str(ref.year) in theorem.cite
        assert ref.arxiv or ref.doi, f"{name}: neither an arXiv id nor a DOI"
        (entry,) = parse_bibtex(citations.bibtex(ref))
        assert entry["year"] == str(ref.year)
        assert len(entry["author"].split(" and ")) == len(ref.authors)


def test_every_catalogue_theorem_has_a_reference():
    assert {t.name for t in th.theorems.catalogue() if not t.references} == set()
    assert set(REFERENCES) <= set(th.theorems.names())


def test_unverified_fields_are_named_not_hidden():
    text = citations.bibtex(th.theorems.get("linear-ica").references[0])
    assert text.startswith("% unverified: volume, number, pages, doi")
    assert parse_bibtex(text)[0]["doi"].startswith("10.1016/")


def test_a_users_theorem_carries_its_own_reference(tmp_path):
    paper = tmp_path / "mypaper.py"
    paper.write_text(
        textwrap.dedent(
            """
            import theory as th
            from theory.references import Reference

            base = th.theorems.get("linear-ica")
            mine = th.Theorem(
                "my-theorem", base.assumptions, base.learner, base.claim,
                reference=Reference(
                    authors=("Doe, Jane", "Roe, R{\\\\'e}mi"), title="A 100% new & #1 result_x",
                    venue="Preprint", year=2026, kind="misc", arxiv="2601.00001",
                ),
            )
            bare = th.Theorem("bare-theorem", base.assumptions, base.learner, base.claim,
                              cite="Someone 2020, 'A paper'")
            """
        )
    )
    result = CliRunner().invoke(main, ["--import", str(paper), "cite", "my-theorem"])
    assert result.exit_code == 0, result.output
    (entry,) = parse_bibtex(result.output)
    assert entry["key"] == "doe2026100" and entry["howpublished"] == "Preprint"
    bare = CliRunner().invoke(main, ["--import", str(paper), "cite", "bare-theorem"])
    assert bare.exit_code == 2
    assert "no structured reference" in bare.output and "Someone 2020" in bare.output


def test_unknown_theorem_is_one_line():
    result = cite("cl-ica", "nope")
    assert result.exit_code == 2
    assert "unknown theorem 'nope'" in result.output and result.output.count("\n") == 1


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"arxiv": "abs/1234"}, "arXiv id"),
        ({"doi": "doi:10.1/x"}, "doi"),
        ({"year": "2021"}, "four-digit"),
        ({"authors": ()}, "author"),
        ({"kind": "book"}, "kind"),
        ({"unverified": ("isbn",)}, "unknown fields"),
    ],
)
def test_a_malformed_reference_is_refused(bad, message):
    good = {"authors": ("A, B",), "title": "T", "venue": "V", "year": 2020}
    with pytest.raises(InvalidArgument, match=message):
        Reference(**{**good, **bad})
    with pytest.raises(InvalidArgument, match="reference"):
        th.Theorem("t", (), "fastica", th.theorems.get("linear-ica").claim, reference="a paper")


def test_round_trip_of_a_reference_through_its_dict():
    for refs in REFERENCES.values():
        for ref in refs:
            assert Reference.from_dict(ref.to_dict()) == ref


def test_accents_become_latex_commands():
    assert ascii_accents("Hyvärinen Schölkopf Sébastien Łukasz") == (
        'Hyv{\\"a}rinen Sch{\\"o}lkopf S{\\\'e}bastien {\\L}ukasz'
    )


def test_the_cite_section_of_a_report():
    made_by = {
        "sith": "0.1.0",
        "python": "3.11",
        "torch": "2",
        "numpy": "2",
        "platform": "Linux",
        "device": "cpu",
        "command": ["sith", "sweep", "`rm`"],
        "created": "2026-01-01T00:00:00Z",
        "git": {"commit": "a" * 40, "dirty": True},
        "seed": 0,
    }
    text = citations.markdown_section("cl-ica", made_by)
    assert text.startswith("## Cite")
    keys = [e["key"] for e in parse_bibtex(text.split("```bibtex")[1].split("```")[0])]
    assert keys == ["sith", "zimmermann2021contrastive"]
    assert "git aaaaaaaaaaaa (uncommitted changes)" in text and "`rm`" not in text
    html = citations.html_section("not-a-theorem", made_by)
    assert "no structured reference" in html and "<script" not in html
