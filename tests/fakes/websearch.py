"""Stand-ins for web search engines and the pages they find, on one local server.

SearXNG's JSON API (`GET /search?q=...&format=json`), Brave's (`GET /brave/res/v1/web/search`
with X-Subscription-Token) and Tavily's (`POST /tavily/search` with a bearer key) answer with
results that point at pages served here under /pages/, plus a few pages that must not be
indexed: one redirecting to a link-local address, one too big, one not text.
"""

from __future__ import annotations

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

app = FastAPI()
KEY = "fake-key"

PAGES = {
    "otters": ("Sea otters", "<html><head><title>Sea otters</title><style>p{}</style></head>"
               "<body><nav>Menu</nav><h1>Sea otters</h1><p>Sea otters hold hands while they "
               "sleep so that they do not drift apart. A group of resting otters is called a "
               "raft.</p><script>var tracking = 1;</script></body></html>"),
    "kelp": ("Kelp forests", "<html><head><title>Kelp forests</title></head><body><p>Kelp "
             "forests grow along cold coasts; sea urchins eat kelp and otters eat urchins, "
             "which keeps the forest standing.</p></body></html>"),
}


def _results(base: str) -> list[dict[str, str]]:
    found = [{"url": f"{base}/pages/{slug}", "title": title, "content": f"About {title}"}
             for slug, (title, _) in PAGES.items()]
    found.append({"url": f"{base}/pages/redirect-private", "title": "Metadata",
                  "content": "redirects to a link-local address"})
    found.append({"url": f"{base}/pages/binary", "title": "Binary", "content": "not text"})
    return found


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/search")
async def searxng(request: Request, q: str = "", format: str = "html") -> JSONResponse:
    if format != "json":
        raise HTTPException(403, "format not allowed")
    return JSONResponse({"query": q, "results": _results(_base(request))})


@app.get("/brave/res/v1/web/search")
async def brave(request: Request, q: str = "",
                x_subscription_token: str = Header("")) -> JSONResponse:
    if x_subscription_token != KEY:
        raise HTTPException(401, "bad key")
    results = [{"url": r["url"], "title": r["title"], "description": r["content"]}
               for r in _results(_base(request))]
    return JSONResponse({"query": {"original": q}, "web": {"results": results}})


@app.post("/tavily/search")
async def tavily(request: Request, authorization: str = Header("")) -> JSONResponse:
    if authorization != f"Bearer {KEY}":
        raise HTTPException(401, "bad key")
    body = await request.json()
    return JSONResponse({"query": body.get("query"), "results": _results(_base(request))})


@app.get("/pages/redirect-private")
async def redirect_private() -> RedirectResponse:
    return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)


@app.get("/pages/binary")
async def binary() -> Response:
    return Response(b"\x00\x01\x02", media_type="application/octet-stream")


@app.get("/pages/{slug}")
async def page(slug: str) -> HTMLResponse:
    if slug not in PAGES:
        raise HTTPException(404, "no such page")
    return HTMLResponse(PAGES[slug][1])
