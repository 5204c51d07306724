"""The code interpreter's kernel: one per session, run inside the sandbox as `python -I -c`.

It imports nothing from owui (the package is not mounted in the sandbox). It lowers its own
resource limits first (it cannot raise them again), takes stdin and stdout for its protocol
(one JSON request per line in, one JSON reply per line out), and points fd 0 at /dev/null and
fds 1 and 2 at two memory files that are read back after each request: whatever the code, or
any process it starts, writes there is captured. RLIMIT_FSIZE bounds those files, so output
that grows past the limit fails with EFBIG.
"""

import ast
import base64
import contextlib
import io
import json
import os
import resource
import signal
import sys
import traceback

LIMITS = json.loads(sys.argv[1])
CODE_NAME = "<cell>"


def lower_limits() -> None:
    for name, value in LIMITS["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))


def take_protocol() -> tuple[io.BufferedReader, io.BufferedWriter]:
    # os.dup gives non-inheritable descriptors: processes the code starts never see them.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return requests, replies


def capture_files() -> tuple[int, int]:
    out, err = os.memfd_create("stdout"), os.memfd_create("stderr")
    os.dup2(out, 1)
    os.dup2(err, 2)
    # They stay open for the kernel's whole life.
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    return out, err


def reset(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)


def read_back(fd: int, limit: int) -> tuple[str, bool]:
    size = os.fstat(fd).st_size
    data = os.pread(fd, min(size, limit), 0)
    return data.decode("utf-8", errors="replace"), size > limit


def split_last_expression(code: str) -> tuple[ast.Module, ast.Expression | None]:
    tree = ast.parse(code, CODE_NAME, "exec")
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        return tree, ast.Expression(tree.body.pop().value)
    return tree, None


def figures() -> list[str]:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    images = []
    for number in pyplot.get_fignums():
        buffer = io.BytesIO()
        pyplot.figure(number).savefig(buffer, format="png")
        images.append(base64.b64encode(buffer.getvalue()).decode())
    pyplot.close("all")
    return images


def user_frames(error: BaseException) -> str:
    """The traceback from the user's code on, without the kernel's own frames ("<string>")."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != "<string>"]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    return "".join(lines + traceback.format_exception_only(type(error), error))


def execute(code: str, namespace: dict) -> dict:
    result, error = None, None
    try:
        tree, last = split_last_expression(code)
        exec(compile(tree, CODE_NAME, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, CODE_NAME, "eval"), namespace)
            if value is not None:
                namespace["_"] = value
                result = repr(value)
    except BaseException as exc:  # the user's code may raise anything, SystemExit included
        error = {"name": type(exc).__name__, "value": str(exc)}
        with contextlib.suppress(OSError):  # stderr full (EFBIG): the error still goes back
            sys.stderr.write(user_frames(exc))
    return {"result": result, "error": error}


def flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):
            stream.flush()


def answer(request: dict, namespace: dict, out: int, err: int, limit: int) -> dict:
    reset(out)
    reset(err)
    reply = execute(request["code"], namespace)
    try:
        reply["images"] = figures()
    except Exception as exc:  # a broken figure must not break the session
        reply["images"] = []
        sys.stderr.write(f"figure export failed: {exc}\n")
    flush()
    reply["stdout"], reply["stdout_truncated"] = read_back(out, limit)
    reply["stderr"], reply["stderr_truncated"] = read_back(err, limit)
    reply["id"] = request["id"]
    return reply


def serve() -> None:
    lower_limits()
    # Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the kernel.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    requests, replies = take_protocol()
    out, err = capture_files()
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    limit = int(LIMITS["output_limit"])
    replies.write(b'{"ready": true}\n')
    replies.flush()
    for line in requests:
        reply = answer(json.loads(line), namespace, out, err, limit)
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


serve()
