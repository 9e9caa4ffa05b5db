#!/usr/bin/python3
"""A mock Hugging Face Hub for entroscope's tests: standard library only, loopback only.

Serves the endpoint shapes a Hub client uses to download a model:

  GET  /api/models/{repo}/revision/{rev}[?blobs=true]  commit + sibling list (sizes, blobIds, lfs sha256)
  HEAD/GET /{repo}/resolve/{rev}/{path}                small files: 200 with ETag = git blob sha1;
                                                       LFS files: 302 to /cdn/{sha256} with X-Linked-Etag,
                                                       X-Linked-Size; always X-Repo-Commit
  HEAD/GET /cdn/{sha256}                               the content, with Range / 206 support

Errors carry the Hub's X-Error-Code: RepoNotFound (401 without a token, 404 with one),
RevisionNotFound, EntryNotFound, GatedRepo (403); a bad token gets 401 "Invalid credentials in
Authorization header".

Usage: mock_hub.py CONFIG.json LOG.jsonl
  Binds 127.0.0.1 on an ephemeral port and prints "PORT <n>" on stdout. Exits when stdin closes
  (the test process went away), after `lifetime_s` seconds, or after `max_requests` requests.

CONFIG:
  {"repos": {"org/name": {"commits": {"<sha>": {"files": {"path": "/local/file", ...}}},
                          "refs": {"main": "<sha>", ...},
                          "private": false, "gated": false}},
   "renamed": {"old/name": "org/name"},
   "token": "hf_...",                       # the token that grants access to private/gated repos
   "cdn_host": "127.0.0.1",                 # host name put into CDN redirect URLs
   "faults": [{"kind": "drop", "file": "model.safetensors", "after": 300000, "times": 1},
              {"kind": "stall", "file": "...", "after": N, "seconds": 3, "times": 1},
              {"kind": "corrupt", "file": "..."},
              {"kind": "status", "prefix": "/api/", "status": 503, "times": 2},
              {"kind": "ignore_range"}],
   "lifetime_s": 60, "max_requests": 1000}
  `file` faults apply to the content of that repository file wherever it is served (resolve or CDN).
"""
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

LFS_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack", ".onnx", ".pt")


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha256, size)).encode()


class Content:
    def __init__(self, path_in_repo, local_path):
        with open(local_path, "rb") as f:
            self.data = f.read()
        self.path = path_in_repo
        self.size = len(self.data)
        self.lfs = path_in_repo.endswith(LFS_SUFFIXES)
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        if self.lfs:
            self.blob_id = git_blob_sha1(lfs_pointer(self.sha256, self.size))
        else:
            self.blob_id = git_blob_sha1(self.data)


class Hub:
    def __init__(self, config, log_path):
        self.config = config
        self.lock = threading.Lock()
        self.log = open(log_path, "a", buffering=1)
        self.faults = config.get("faults", [])
        self.token = config.get("token")
        self.cdn_host = config.get("cdn_host", "127.0.0.1")
        self.renamed = config.get("renamed", {})
        self.repos = {}
        self.by_sha256 = {}
        for repo_id, repo in config.get("repos", {}).items():
            commits = {}
            for sha, commit in repo.get("commits", {}).items():
                files = {p: Content(p, local) for p, local in commit.get("files", {}).items()}
                for c in files.values():
                    self.by_sha256[c.sha256] = c
                commits[sha] = files
            self.repos[repo_id] = {"commits": commits, "refs": repo.get("refs", {}),
                                   "private": repo.get("private", False), "gated": repo.get("gated", False)}
        self.requests = 0

    def take_fault(self, kind, **match):
        with self.lock:
            for f in self.faults:
                if f.get("kind") != kind:
                    continue
                if any(f.get(k) not in (None, v) for k, v in match.items()):
                    continue
                if "prefix" in f and not match.get("path", "").startswith(f["prefix"]):
                    continue
                times = f.get("times")
                if times is not None:
                    if times <= 0:
                        continue
                    f["times"] = times - 1
                return f
        return None

    def has_fault(self, kind, **match):
        for f in self.faults:
            if f.get("kind") == kind and all(f.get(k) in (None, v) for k, v in match.items()):
                return True
        return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MockHub/1.0"

    def log_message(self, fmt, *args):
        pass

    # -- helpers -------------------------------------------------------------------------------
    def record(self, status, note=""):
        hub = self.server.hub
        entry = {"method": self.command, "path": self.path, "status": status,
                 "range": self.headers.get("Range"), "auth": self.headers.get("Authorization"),
                 "user_agent": self.headers.get("User-Agent"), "time": round(time.time(), 3)}
        if note:
            entry["note"] = note
        with hub.lock:
            hub.log.write(json.dumps(entry) + "\n")

    def send(self, status, headers=None, body=b"", note=""):
        self.record(status, note)
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def error(self, status, code=None, message=None, extra=None):
        headers = {"Content-Type": "application/json"}
        if code:
            headers["X-Error-Code"] = code
        if message:
            headers["X-Error-Message"] = message
        headers.update(extra or {})
        body = json.dumps({"error": message or code or "error"}).encode()
        self.send(status, headers, body)

    def auth_state(self):
        """None (no header), True (the configured token), False (some other token)."""
        value = self.headers.get("Authorization")
        if not value:
            return None
        return value == "Bearer %s" % self.server.hub.token

    def find_repo(self, repo_id):
        """Returns the repo dict or answers the request with the Hub's error and returns None."""
        hub = self.server.hub
        auth = self.auth_state()
        if auth is False:
            self.error(401, None, "Invalid credentials in Authorization header")
            return None
        repo = hub.repos.get(repo_id)
        if repo is None or (repo["private"] and not auth):
            # The Hub does not reveal whether a repo exists to anonymous callers.
            self.error(404 if auth else 401, "RepoNotFound", "Repository not found")
            return None
        if repo["gated"] and not auth:
            self.error(403, "GatedRepo", "Access to model %s is restricted." % repo_id)
            return None
        return repo

    def resolve_rev(self, repo, rev):
        if rev in repo["commits"]:
            return rev
        return repo["refs"].get(rev)

    # -- routing -------------------------------------------------------------------------------
    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def route(self):
        hub = self.server.hub
        with hub.lock:
            hub.requests += 1
            over = hub.requests > hub.config.get("max_requests", 1000)
        if over:
            self.error(503, None, "mock hub request limit reached")
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        fault = hub.take_fault("status", path=path)
        if fault:
            self.error(fault["status"], None, "injected failure")
            return
        try:
            if path.startswith("/api/models/"):
                self.api_revision(path[len("/api/models/"):], parsed.query)
            elif path.startswith("/cdn/"):
                self.cdn(path[len("/cdn/"):])
            elif "/resolve/" in path:
                self.resolve(path)
            else:
                self.error(404, None, "no such endpoint")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def api_revision(self, rest, query):
        hub = self.server.hub
        if "/revision/" not in rest:
            self.error(404, None, "no such endpoint")
            return
        repo_id, rev = rest.split("/revision/", 1)
        rev = urllib.parse.unquote(rev)
        if repo_id in hub.renamed:
            self.send(307, {"Location": "/api/models/%s/revision/%s" % (hub.renamed[repo_id], urllib.parse.quote(rev, safe=""))})
            return
        repo = self.find_repo(repo_id)
        if repo is None:
            return
        sha = self.resolve_rev(repo, rev)
        if sha is None:
            self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            return
        blobs = "blobs=true" in query
        siblings = []
        for c in sorted(repo["commits"][sha].values(), key=lambda c: c.path):
            s = {"rfilename": c.path}
            if blobs:
                s["blobId"] = c.blob_id
                s["size"] = c.size
                if c.lfs:
                    s["lfs"] = {"sha256": c.sha256, "size": c.size, "pointerSize": len(lfs_pointer(c.sha256, c.size))}
            siblings.append(s)
        body = json.dumps({"_id": "mock", "id": repo_id, "modelId": repo_id, "sha": sha,
                           "private": repo["private"], "siblings": siblings}).encode()
        self.send(200, {"Content-Type": "application/json"}, body)

    def resolve(self, path):
        hub = self.server.hub
        repo_id, rest = path.lstrip("/").split("/resolve/", 1)
        if repo_id in hub.renamed:
            self.send(307, {"Location": "/%s/resolve/%s" % (hub.renamed[repo_id], rest)})
            return
        repo = self.find_repo(repo_id)
        if repo is None:
            return
        if "/" not in rest:
            self.error(404, "EntryNotFound", "no file")
            return
        rev, file_path = rest.split("/", 1)
        rev = urllib.parse.unquote(rev)
        file_path = urllib.parse.unquote(file_path)
        sha = self.resolve_rev(repo, rev)
        if sha is None:
            self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            return
        content = repo["commits"][sha].get(file_path)
        if content is None:
            self.error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": sha})
            return
        if content.lfs:
            port = self.server.server_address[1]
            location = "http://%s:%d/cdn/%s?X-Amz-Signature=mock" % (hub.cdn_host, port, content.sha256)
            pointer = lfs_pointer(content.sha256, content.size)
            self.send(302, {"Location": location, "X-Repo-Commit": sha, "ETag": '"%s"' % git_blob_sha1(pointer),
                            "X-Linked-Etag": '"%s"' % content.sha256, "X-Linked-Size": str(content.size)})
            return
        self.serve_content(content, {"X-Repo-Commit": sha, "ETag": '"%s"' % content.blob_id})

    def cdn(self, rest):
        sha256 = rest.split("?", 1)[0]
        content = self.server.hub.by_sha256.get(sha256)
        if content is None:
            self.error(404, None, "no such object")
            return
        self.serve_content(content, {"ETag": '"%s"' % sha256})

    def serve_content(self, content, headers):
        hub = self.server.hub
        data = content.data
        if hub.has_fault("corrupt", file=content.path):
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        start, end = 0, len(data) - 1
        status = 200
        range_header = self.headers.get("Range")
        if range_header and not hub.has_fault("ignore_range"):
            spec = range_header.replace("bytes=", "", 1)
            first, _, last = spec.partition("-")
            start = int(first)
            end = int(last) if last else len(data) - 1
            if start >= len(data):
                self.send(416, {"Content-Range": "bytes */%d" % len(data)})
                return
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
        headers["Accept-Ranges"] = "bytes"
        headers["Content-Type"] = "application/octet-stream"
        body = data[start:end + 1]
        if self.command == "HEAD":
            headers["Content-Length"] = str(len(body))
            self.send(status, headers)
            return
        drop = hub.take_fault("drop", file=content.path)
        stall = None if drop else hub.take_fault("stall", file=content.path)
        fault = drop or stall
        if fault is None:
            self.send(status, headers, body)
            return
        # Announce the whole body, send part of it, then stall and/or hang up.
        cut = min(fault.get("after", 0), len(body))
        self.record(status, "%s after %d bytes" % (fault["kind"], cut))
        self.send_response(status)
        headers["Content-Length"] = str(len(body))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body[:cut])
        self.wfile.flush()
        if stall:
            time.sleep(fault.get("seconds", 3))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: mock_hub.py CONFIG.json LOG.jsonl\n")
        return 2
    with open(sys.argv[1]) as f:
        config = json.load(f)
    server = Server(("127.0.0.1", 0), Handler)
    server.hub = Hub(config, sys.argv[2])

    def stop_when_stdin_closes():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        server.shutdown()

    def stop_after_lifetime():
        time.sleep(config.get("lifetime_s", 60))
        server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    threading.Thread(target=stop_after_lifetime, daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
