"""The code interpreter: Python in a separate OS process per session, confined by the OS.

Each session is one kernel process (`kernel.py`) that keeps its globals between calls, like a
notebook kernel. With CODE_EXECUTION_SANDBOX=bwrap (the default) it runs under bubblewrap
(Debian's `bubblewrap` package), and this is what is enforced, by the kernel of the OS rather
than by trust in the code:

- Processes: new PID, IPC, UTS and network namespaces. The session sees only its own
  processes; its network namespace has nothing but a loopback interface that is down, so no
  socket reaches any host, the services' ports included.
- Identity: when the service runs as root, the kernel runs as a uid of its own per session
  slot (CODE_EXECUTION_UID + a block chosen by the service's pid + slot, no supplementary
  groups; no passwd entry is needed), with no capabilities (bounding
  set emptied) and no_new_privs, so no setuid program can raise it. Run as another user, the
  service gives the kernel a user namespace of its own instead (and forbids nested ones);
  that path was tried by hand (bwrap as uid 65534), the tests run as root like CI.
- File system: a new mount namespace whose root is an empty tmpfs owned by root. Mounted in
  it: /usr (and its merged /bin, /lib, /lib64, /sbin links), a few files of /etc that hold
  nothing of the services (ld.so.cache, localtime, alternatives, fonts, mime.types,
  ssl/certs), the Python installation and the virtualenv the service runs from, all
  read-only; /proc of its own PID namespace; a minimal /dev; a private /tmp (tmpfs, sized to
  CODE_EXECUTION_MAX_FILE_SIZE); and the session's workspace (under
  OWUI_DATA_DIR/agent/sessions/) read-write at /workspace (the working directory). Nothing
  else of OWUI_DATA_DIR, its databases, the jwt_secret file, nor any other file of the host
  is visible.
- Environment: emptied; the kernel gets PATH, HOME, TMPDIR, LANG and a few settings for
  numerical libraries, nothing of the services' (no JWT_SECRET_KEY, DATABASE_URL, provider
  keys).
- Resource limits (setrlimit, lowered by the kernel before it runs any code; it cannot raise
  them again): RLIMIT_CPU (CODE_EXECUTION_CPU_LIMIT seconds of CPU for the session's life),
  RLIMIT_AS (CODE_EXECUTION_MEMORY_LIMIT bytes of address space per process: a huge
  allocation raises MemoryError), RLIMIT_NPROC (CODE_EXECUTION_MAX_PROCESSES for the session's
  uid: a fork bomb gets EAGAIN), RLIMIT_FSIZE (CODE_EXECUTION_MAX_FILE_SIZE per file, the
  captured stdout and stderr included), RLIMIT_NOFILE (256) and RLIMIT_CORE (0).
- Wall clock: the service waits CODE_EXECUTION_TIMEOUT seconds (or the call's `timeout`, at most
  ten times that) for a reply, then kills the whole sandbox (its PID namespace dies with it);
  the call answers 408 and the session starts afresh on its next call.
- Output: the stdout and stderr returned are cut at CODE_EXECUTION_OUTPUT_LIMIT bytes each.
- Sessions: at most CODE_EXECUTION_MAX_SESSIONS kernels at once (the least recently used idle
  one makes room); a kernel idle for CODE_EXECUTION_IDLE_TIMEOUT seconds is stopped and its
  workspace deleted. Workspaces are kept per service process (OWUI_DATA_DIR/agent/sessions/
  <pid>-<boot>/<id>); those of processes that no longer run are deleted at start.

Not enforced: the total disk space a workspace takes (only the size of each file); memory
across processes (RLIMIT_AS is per process, so up to MAX_PROCESSES times the limit in theory;
no cgroup is used); CPU share against the services (the kernel runs at normal priority); the
kernel's own view of /usr and the Python installation (read-only, but readable). The user's
code runs as ordinary Python with all of the standard library.

CODE_EXECUTION_SANDBOX=none runs the kernel as a plain child process of the service, in its own
process group, with the same resource limits and clean environment and the workspace as its
working directory, but without namespaces or a uid change: no confinement of the file system or
the network. It is meant for a trusted single-user laptop without bubblewrap.
"""
