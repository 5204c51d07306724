"""A stand-in OpenTelemetry collector: OTLP over HTTP, decoded with opentelemetry-proto.

`POST /v1/traces` takes what an OTLP/HTTP exporter sends (protobuf, gzip or not) and keeps each
span; `GET /spans` lists them as JSON (ids in hex, the resource's service.name beside each);
`DELETE /spans` forgets them. Run as `uvicorn tests.fakes.otlp:app`.
"""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

app = FastAPI()
SPANS: list[dict[str, Any]] = []
KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer",
         5: "consumer"}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/traces")
async def traces(request: Request) -> Response:
    body = await request.body()
    if request.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    if request.headers.get("content-type") != "application/x-protobuf":
        return Response(b"protobuf only", status_code=415)
    export = ExportTraceServiceRequest()
    export.ParseFromString(body)
    for resource_spans in export.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                SPANS.append({
                    "service": resource.get("service.name"),
                    "scope": scope_spans.scope.name,
                    "name": span.name,
                    "kind": KINDS.get(span.kind, str(span.kind)),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex() or None,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "attributes": {kv.key: _value(kv.value) for kv in span.attributes},
                })
    return Response(ExportTraceServiceResponse().SerializeToString(),
                    media_type="application/x-protobuf")


@app.get("/spans")
async def spans() -> list[dict[str, Any]]:
    return SPANS


@app.delete("/spans")
async def forget() -> dict[str, int]:
    count = len(SPANS)
    SPANS.clear()
    return {"forgotten": count}
