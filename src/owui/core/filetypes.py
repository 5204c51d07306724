"""The files owui reads, by extension: shared by the retrieval service (which extracts them)
and the CLI's `owui ingest` (which picks them out of a folder), so that neither imports the
other."""

from __future__ import annotations

SOURCE_EXTENSIONS = frozenset({
    "py", "js", "mjs", "ts", "tsx", "jsx", "java", "kt", "c", "h", "cc", "cpp", "hpp", "cs",
    "go", "rs", "rb", "php", "swift", "scala", "sh", "bash", "sql", "css", "scss", "xml",
    "yaml", "yml", "toml", "ini", "cfg", "r", "lua", "pl", "ex", "exs", "hs", "vue", "svelte",
})
TEXT_EXTENSIONS = frozenset({"txt", "text", "log", "rst"})
# Extension -> the kind of extraction it gets.
KINDS: dict[str, str] = {
    **{ext: "text" for ext in TEXT_EXTENSIONS},
    **{ext: "source" for ext in SOURCE_EXTENSIONS},
    "md": "markdown", "markdown": "markdown",
    "html": "html", "htm": "html",
    "pdf": "pdf", "docx": "docx", "csv": "csv", "json": "json",
}


def extension(name: str) -> str:
    """The extension of a file name, lower case, without the dot ('' if none)."""
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""
