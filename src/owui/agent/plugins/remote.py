"""A tool's or function's source read from a URL (the editor's "Import from link"), as Open
WebUI does: GitHub page links become their raw file, the name comes from the file's path. The
caller stores nothing: the editor shows the source and the admin saves it."""

from __future__ import annotations

import re

import httpx

from owui.core.errors import BadRequestError

_TREE = re.compile(r"https://github\.com/([^/]+)/([^/]+)/tree/([^/]+)/(.*)")
_BLOB = re.compile(r"https://github\.com/([^/]+)/([^/]+)/blob/([^/]+)/(.*)")
MAX_SOURCE = 1_000_000  # as the create form's content
TIMEOUT = 15.0


class FetchFailed(BadRequestError):
    pass


def raw_url(url: str) -> str:
    tree = _TREE.match(url)
    if tree:
        org, repo, branch, path = tree.groups()
        return (f"https://raw.githubusercontent.com/{org}/{repo}/refs/heads/{branch}/"
                f"{path.rstrip('/')}/main.py")
    blob = _BLOB.match(url)
    if blob:
        org, repo, branch, path = blob.groups()
        return f"https://raw.githubusercontent.com/{org}/{repo}/refs/heads/{branch}/{path}"
    return url


def name_of(url: str, default: str) -> str:
    parts = url.rstrip("/").split("/")
    file_name = parts[-1]
    if file_name.endswith(".py") and not file_name.startswith(("main.py", "index.py",
                                                               "__init__.py")):
        return file_name[:-3]
    return parts[-2] if len(parts) > 1 else default


async def fetch_source(http: httpx.AsyncClient, url: str, what: str) -> dict[str, str]:
    """{name, content} of the source at `url`; a clear 400 when it cannot be had."""
    url = raw_url(url.strip())
    if not url.startswith(("http://", "https://")):
        raise FetchFailed("Please enter a valid URL (http:// or https://).")
    try:
        response = await http.get(url, timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"Could not reach {url}: {type(exc).__name__}"
                          f"{': ' + str(exc) if str(exc) else ''}") from None
    if response.status_code != 200:
        raise FetchFailed(f"Failed to fetch the {what}: {url} answered "
                          f"{response.status_code}.")
    if len(response.content) > MAX_SOURCE:
        raise FetchFailed(f"The {what} at {url} is larger than {MAX_SOURCE} bytes.")
    content = response.text
    if not content.strip():
        raise FetchFailed("No data received from the URL")
    return {"name": name_of(url, what), "content": content}
