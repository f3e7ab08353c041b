"""Files served by the UI belong to the user who made them.

Gradio serves every file it has handed out (reports, Anki exports, the interviewer's voice, uploaded
recordings) at ``/gradio_api/file=<path>`` to any logged-in client that knows the path. With a login
configured, this middleware makes the path alone useless: a file the app writes carries its owner in
its name (``owner_tag``), an uploaded file gets an owner note beside it when it arrives, and a file
request from anyone else — or for a file with no owner — is answered 404 as if it did not exist.
Gradio stores uploads by content, so two users who upload byte-identical files get the same path:
the note lists every uploader (each already has those bytes), one per line.
No per-user state is kept in the process: ownership lives in file names and beside the files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

OWNER_SUFFIX = ".owner"


def owner_hash(user: str) -> str:
    return hashlib.sha256(("interviewer-file-owner\0" + user).encode()).hexdigest()[:20]


def owner_tag(user: str) -> str:
    """Put this in the name of every file written for ``user`` (``session-…__u<hash>__.md``)."""
    return f"__u{owner_hash(user)}__"


def file_owners(path: Path) -> frozenset[str]:
    """The owner hashes of a served file: from its name, else from the note written at upload."""
    name = path.name
    if "__u" in name:
        tag = name.split("__u", 1)[1].split("__", 1)[0]
        if len(tag) == 20:
            return frozenset((tag,))
    try:
        note = path.with_name(path.name + OWNER_SUFFIX).read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    return frozenset(line.strip() for line in note.splitlines() if line.strip())


def add_owner(path: Path, user: str) -> None:
    """Record ``user`` as an uploader of ``path`` (appended: earlier uploaders of the same bytes keep it)."""
    note = path.with_name(path.name + OWNER_SUFFIX)
    if owner_hash(user) not in file_owners(path):
        with note.open("a", encoding="utf-8") as f:
            f.write(owner_hash(user) + "\n")


class FileOwnerMiddleware(BaseHTTPMiddleware):
    """Only the owner gets a file; uploads are marked with their uploader."""

    def __init__(self, app: object, trusted_user_header: str = "") -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.header = trusted_user_header

    def user(self, request: Request) -> str | None:
        if self.header:
            return request.headers.get(self.header, "").strip()[:100] or None
        gradio_app = request.scope.get("app")
        cookie_id = getattr(gradio_app, "cookie_id", "")
        token = (request.cookies.get(f"access-token-{cookie_id}")
                 or request.cookies.get(f"access-token-unsecure-{cookie_id}"))
        return getattr(gradio_app, "tokens", {}).get(token) if token else None

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if "/file=" in path:
            user = self.user(request)
            target = Path(unquote(path.split("/file=", 1)[1]))
            if user is None or owner_hash(user) not in file_owners(target):
                return PlainTextResponse("no such file", status_code=404)
            return await call_next(request)
        response = await call_next(request)
        if request.method == "POST" and path.rstrip("/").endswith("/upload") and response.status_code == 200:
            body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
            user = self.user(request)
            try:
                paths = json.loads(body)
            except ValueError:
                paths = []
            for p in paths if isinstance(paths, list) and user else []:
                with contextlib.suppress(OSError, TypeError):
                    add_owner(Path(p), user or "")
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            return Response(body, status_code=response.status_code, headers=headers, media_type=response.media_type)
        return response
