"""The pieces on their own: chunking, extraction, names and types, fusion, full-text
queries, safe fetching, and the three search engines against the local fake."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from owui.core.config import Settings
from owui.retrieval.chunking import Chunker, tokenizer
from owui.retrieval.extract import ExtractionError, Section, extract_file, markdown_sections
from owui.retrieval.filetypes import UnsupportedFile, check_head, kind_of, safe_filename
from owui.retrieval.vectors.base import Hit
from owui.retrieval.vectors.chroma import chroma_name
from owui.retrieval.vectors.fusion import Fusion, fuse
from owui.retrieval.web import engines
from owui.retrieval.web.fetch import FetchRefused, fetch, make_client, resolve
from tests.retrieval.documents import make_docx


def test_chunks_are_token_windows_with_overlap() -> None:
    text = " ".join(f"word{i}" for i in range(300))
    chunks = Chunker(50, 10).split([Section(text, {"page": 3})])
    sizes = [len(tokenizer().encode(c.text, add_special_tokens=False).ids) for c in chunks]
    assert len(chunks) > 5 and max(sizes) <= 50
    assert [c.meta["chunk_index"] for c in chunks] == list(range(len(chunks)))
    assert all(c.meta["page"] == 3 for c in chunks)
    assert chunks[0].text.split()[-1] in chunks[1].text  # windows overlap
    assert chunks[-1].text.endswith("word299")
    with pytest.raises(ValueError, match="CHUNK_OVERLAP"):
        Chunker(10, 10)


def test_markdown_sections_follow_headings_not_code() -> None:
    sections = markdown_sections("intro\n# A\ntext a\n```\n# not a heading\n```\n## B\ntext b\n"
                                 "# C\ntext c")
    assert [s.meta.get("section") for s in sections] == [None, "A", "A > B", "C"]
    assert "# not a heading" in sections[1].text


def test_extractors(tmp_path: Path) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("name,age\nAda,36\nAlan,41\n")
    assert "name: Ada; age: 36" in extract_file(csv_file, "csv")[0].text
    json_file = tmp_path / "t.json"
    json_file.write_text('{"colour": "teal"}')
    assert '"colour": "teal"' in extract_file(json_file, "json")[0].text
    html = tmp_path / "t.html"
    html.write_text("<html><head><title>T</title><script>x=1</script></head>"
                    "<body><p>Visible</p></body></html>")
    (section,) = extract_file(html, "html")
    assert section.text == "Visible" and section.meta == {"title": "T"}
    docx = tmp_path / "t.docx"
    docx.write_bytes(make_docx("Plan", ["Step one."]))
    assert extract_file(docx, "docx")[0].meta == {"section": "Plan"}
    empty = tmp_path / "e.txt"
    empty.write_text("   \n")
    with pytest.raises(ExtractionError, match="no text"):
        extract_file(empty, "text")
    latin = tmp_path / "l.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ExtractionError, match="UTF-8"):
        extract_file(latin, "text")


def test_names_and_types() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert safe_filename("a\x00b\nc.txt") == "abc.txt"
    assert safe_filename("..") == "upload" and safe_filename(None) == "upload"
    assert kind_of("Main.PY").kind == "source" and kind_of("x.md").kind == "markdown"
    with pytest.raises(UnsupportedFile, match=r"\.exe"):
        kind_of("setup.exe")
    with pytest.raises(UnsupportedFile, match="without an extension"):
        kind_of("Makefile")
    check_head(kind_of("a.txt"), "naïve".encode()[:-1] + b"")  # a cut character is fine
    with pytest.raises(UnsupportedFile):
        check_head(kind_of("a.txt"), b"\xff\xfe\xfa" * 10)


def _hit(key: str, score: float = 0.0) -> Hit:
    return Hit(key, "c", "f", key, score, {})


def test_chroma_names_follow_chromas_rules_and_never_meet() -> None:
    owui = ["kb", "file-3f2a", "a", "", "odd \"quoted\" \\ name", "x" * 300, "x" * 200, "é"]
    names = [chroma_name(name, dim) for name in owui for dim in (16, 384)]
    rule = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")
    assert all(rule.fullmatch(name) and ".." not in name for name in names)
    assert len(set(names)) == len(names)
    assert chroma_name("kb", 384) == "owui-kb-384"  # plain names stay readable


def test_reciprocal_rank_fusion() -> None:
    rrf = Fusion("rrf", 0.5)
    fused = fuse([[_hit("a"), _hit("b"), _hit("c")], [_hit("b"), _hit("d")]], 3, rrf)
    assert [h.id for h in fused] == ["b", "a", "d"]
    assert fuse([[_hit("x")], [_hit("x")]], 1, rrf)[0].score == pytest.approx(1.0)


def test_convex_fusion_weighs_scores_over_each_lists_best() -> None:
    dense, sparse = [_hit("a", 0.8), _hit("b", 0.4)], [_hit("b", 10.0), _hit("c", 5.0)]
    even = fuse([dense, sparse], 3, Fusion("convex", 0.5))
    assert [(h.id, round(h.score, 6)) for h in even] == [("b", 0.75), ("a", 0.5), ("c", 0.25)]
    dense_led = fuse([dense, sparse], 3, Fusion("convex", 0.2))
    assert [(h.id, round(h.score, 6)) for h in dense_led] == [("a", 0.8), ("b", 0.6), ("c", 0.1)]
    assert fuse([[_hit("x", 0.7)], [_hit("x", 3.0)]], 1)[0].score == pytest.approx(1.0)
    assert [h.id for h in fuse([dense, []], 2)] == ["a", "b"]


@pytest.mark.parametrize("url, words", [
    ("ftp://127.0.0.1/x", "only http and https"),
    ("http://127.0.0.1:9/", "private or local"),
    ("http://localhost:9/", "private or local"),
    ("http://10.1.2.3/", "private or local"),
    ("http://[::1]:9/", "private or local"),
    ("http:///nohost", "no host"),
])
async def test_fetch_refuses_local_addresses_by_default(url: str, words: str) -> None:
    with pytest.raises(FetchRefused, match=words):
        await resolve(url, allow_local=False)


async def test_fetch_never_reaches_link_local_even_when_local_is_allowed() -> None:
    with pytest.raises(FetchRefused, match="private or local"):
        await resolve("http://169.254.169.254/latest/meta-data/", allow_local=True)
    pinned, host = await resolve("http://localhost:8080/a?b=1", allow_local=True)
    assert pinned in ("http://127.0.0.1:8080/a?b=1", "http://[::1]:8080/a?b=1")
    assert host == "localhost:8080"


@pytest.mark.parametrize("engine, extra", [
    ("searxng", {"searxng_query_url": "{base}/search?q=<query>"}),
    ("brave", {"brave_search_api_key": "fake-key",
               "brave_search_url": "{base}/brave/res/v1/web/search"}),
    ("tavily", {"tavily_api_key": "fake-key", "tavily_search_url": "{base}/tavily/search"}),
])
async def test_search_engines_speak_their_protocols(web_fake: str, engine: str,
                                                    extra: dict[str, str]) -> None:
    settings = Settings(web_search_engine=engine,
                        **{k: v.format(base=web_fake) for k, v in extra.items()})
    assert engines.check_engine(settings) is None
    async with httpx.AsyncClient() as client:
        results = await engines.search(settings, client, "otters", 2)
    assert [r.title for r in results] == ["Sea otters", "Kelp forests"]
    assert results[0].link == f"{web_fake}/pages/otters" and results[0].snippet


def test_engine_settings_are_checked() -> None:
    assert "needs BRAVE_SEARCH_API_KEY" in str(engines.check_engine(
        Settings(web_search_engine="brave")))
    assert "not one of" in str(engines.check_engine(Settings(web_search_engine="bing")))
    assert engines.check_engine(Settings()) is None


async def test_fetch_caps_size_and_reads_only_text(web_fake: str) -> None:
    async with make_client(5) as client:
        page = await fetch(client, f"{web_fake}/pages/otters", allow_local=True,
                           max_bytes=10_000, seconds=10)
        assert page.content_type == "text/html" and b"hold hands" in page.body
        with pytest.raises(FetchRefused, match="over 100 bytes"):
            await fetch(client, f"{web_fake}/pages/otters", allow_local=True, max_bytes=100,
                        seconds=10)
        with pytest.raises(FetchRefused, match="answered 404"):
            await fetch(client, f"{web_fake}/pages/nope", allow_local=True, max_bytes=100,
                        seconds=10)
