#!/usr/bin/python3
"""Real-browser test of the HTML page written by `entroscope report`.

Drives headless Chromium over the DevTools protocol (CDP) with the
`websocket` module (Debian: python3-websocket) and checks the page contract:
no JS errors, required sections, summary-table texts, heat-map rows, the
entropy/surprisal toggle, item selection, no external requests, load time,
and a non-blank screenshot.  Exit 0 on success, 1 on any failure (one line
per problem), 2 on bad usage.  Uses only the stdlib plus `websocket`.
"""

import argparse
import base64
import collections
import json
import os
import pathlib
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

try:
    import websocket  # websocket-client (Debian: python3-websocket)
except ImportError:
    print("FAIL: python module 'websocket' missing (apt-get install python3-websocket)")
    sys.exit(1)

VIEW_W, VIEW_H = 1280, 800

REQUIRED_IDS = [
    "report-header", "summary", "summary-table", "scaling", "forest",
    "distributions", "heatmaps", "item-select", "metric-entropy",
    "metric-surprisal", "heatmap-rows", "provenance", "warnings",
]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--remote-debugging-port=0",
    "--window-size=%d,%d" % (VIEW_W, VIEW_H),
]


class HarnessError(Exception):
    """Aborts the run (cannot continue checking)."""


# --------------------------------------------------------------------------
# PNG decoding (colour types 2 and 6, bit depth 8, not interlaced)
# --------------------------------------------------------------------------

def decode_png(blob):
    """Returns (width, height, bytes_per_pixel, [row bytes])."""
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(blob):
        length, ctype = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if ihdr is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, ctype, _comp, _filt, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG (bit depth %d, colour type %d, interlace %d)"
                         % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError("PNG data size %d != expected %d" % (len(raw), height * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(height):
        off = y * (stride + 1)
        ftype = raw[off]
        cur = bytearray(raw[off + 1:off + 1 + stride])
        if ftype == 0:
            pass
        elif ftype == 1:  # Sub
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 0xFF
        elif ftype == 2:  # Up
            for i in range(stride):
                cur[i] = (cur[i] + prev[i]) & 0xFF
        elif ftype == 3:  # Average
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:  # Paeth
            for i in range(stride):
                if i >= bpp:
                    a, c = cur[i - bpp], prev[i - bpp]
                else:
                    a = c = 0
                b = prev[i]
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
                cur[i] = (cur[i] + pred) & 0xFF
        else:
            raise ValueError("bad PNG filter type %d in row %d" % (ftype, y))
        rows.append(bytes(cur))
        prev = cur
    return width, height, bpp, rows


def png_colour_stats(blob):
    """Returns (width, height, n_distinct_colours, fraction_not_most_common)."""
    width, height, bpp, rows = decode_png(blob)
    counts = collections.Counter()
    for row in rows:
        counts.update(row[i:i + bpp] for i in range(0, len(row), bpp))
    total = width * height
    most = counts.most_common(1)[0][1] if counts else 0
    return width, height, len(counts), (total - most) / float(total or 1)


# --------------------------------------------------------------------------
# Chromium + CDP
# --------------------------------------------------------------------------

class Chromium:
    def __init__(self, binary, deadline):
        self.binary = binary
        self.deadline = deadline
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix="entroscope-browser-test-")
        self.profile = os.path.join(self.tmp, "profile")
        self.stderr_path = os.path.join(self.tmp, "chromium.stderr")

    def stderr_tail(self, n=15):
        try:
            with open(self.stderr_path, "r", errors="replace") as f:
                lines = [l.rstrip() for l in f if l.strip()]
            return "\n".join("    " + l for l in lines[-n:]) or "    (no stderr output)"
        except OSError:
            return ""

    def start(self):
        """Starts Chromium; returns the browser websocket URL."""
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise HarnessError("chromium not found or not executable: %s "
                               "(apt-get install chromium)" % self.binary)
        cmd = [self.binary] + CHROMIUM_FLAGS + [
            "--user-data-dir=" + self.profile, "about:blank"]
        with open(self.stderr_path, "wb") as err:
            try:
                # Own session/process group so that cleanup can kill the
                # renderer/zygote children too, by our own group id.
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=err,
                                             start_new_session=True)
            except OSError as e:
                raise HarnessError("cannot start chromium %s: %s" % (self.binary, e))
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        start_secs = max(0.0, min(30.0, self.deadline - time.monotonic()))
        start_limit = time.monotonic() + start_secs
        while time.monotonic() < start_limit:
            if self.proc.poll() is not None:
                raise HarnessError("chromium exited with code %s before DevTools was ready:\n%s"
                                   % (self.proc.returncode, self.stderr_tail()))
            try:
                with open(port_file) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].strip():
                    return "ws://127.0.0.1:%s%s" % (lines[0].strip(), lines[1].strip())
            except OSError:
                pass
            time.sleep(0.05)
        raise HarnessError("chromium did not open a DevTools port within %.0f s:\n%s"
                           % (start_secs, self.stderr_tail()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.proc.wait(timeout=5)
        if self.proc is not None:
            # Children of the group may outlive the main process briefly.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


class CDP:
    """Minimal CDP client over one browser websocket, flattened sessions."""

    def __init__(self, url, deadline):
        self.deadline = deadline
        self.next_id = 0
        self.events = []          # every event received, in order
        self.session = None
        try:
            self.ws = websocket.create_connection(url, timeout=10, suppress_origin=True)
        except Exception as e:  # noqa: BLE001 - report any connection problem
            raise HarnessError("cannot connect to chromium DevTools at %s: %s" % (url, e))

    def _recv(self, until):
        remaining = until - time.monotonic()
        if remaining <= 0:
            return None
        self.ws.settimeout(min(remaining, 1.0))
        try:
            msg = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except Exception as e:  # noqa: BLE001
            raise HarnessError("DevTools connection lost: %s" % e)
        return json.loads(msg)

    def call(self, method, params=None, browser=False, timeout=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if not browser and self.session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        until = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        while True:
            if time.monotonic() >= until:
                raise HarnessError("timed out waiting for DevTools reply to %s%s" % (
                    method, " (overall --timeout reached)" if until >= self.deadline else ""))
            m = self._recv(until)
            if m is None:
                continue
            if m.get("id") == mid:
                if "error" in m:
                    raise HarnessError("DevTools %s failed: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def pump(self, seconds):
        """Collects events for a while."""
        until = min(self.deadline, time.monotonic() + seconds)
        while time.monotonic() < until:
            m = self._recv(until)
            if m is not None and "method" in m:
                self.events.append(m)

    def wait_event(self, method, since_index, timeout):
        until = min(self.deadline, time.monotonic() + timeout)
        while True:
            for ev in self.events[since_index:]:
                if ev["method"] == method and ev.get("sessionId") == self.session:
                    return ev
            since_index = len(self.events)
            if time.monotonic() >= until:
                return None
            m = self._recv(until)
            if m is not None and "method" in m:
                self.events.append(m)

    def eval(self, expr, await_promise=False):
        r = self.call("Runtime.evaluate", {
            "expression": expr, "returnByValue": True,
            "awaitPromise": await_promise, "userGesture": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            desc = (d.get("exception") or {}).get("description") or d.get("text")
            raise HarnessError("evaluating page script failed: %s" % desc)
        return r.get("result", {}).get("value")

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------
# Page checks
# --------------------------------------------------------------------------

def describe_remote_args(args):
    out = []
    for a in args or []:
        if "value" in a:
            out.append(str(a["value"]))
        else:
            out.append(a.get("description") or a.get("type", "?"))
    return " ".join(out)


def page_errors(cdp, page_url):
    """JS errors, console errors, log errors and external requests so far."""
    errs = []
    for ev in cdp.events:
        m, p = ev["method"], ev.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errs.append("console.%s: %s" % (p["type"], describe_remote_args(p.get("args"))))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = (d.get("exception") or {}).get("description") or d.get("text", "")
            errs.append("uncaught exception: %s (line %s, col %s)"
                        % (desc.split("\n")[0], d.get("lineNumber"), d.get("columnNumber")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            errs.append("log error [%s]: %s%s" % (e.get("source"), e.get("text"),
                                                  (" (" + e["url"] + ")") if e.get("url") else ""))
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page_url and not url.startswith(("data:", "blob:", "about:")):
                errs.append("page is not self-contained: it requested %s" % url)
    return errs


TOK_STATE_JS = r"""
(() => {
  const toks = Array.from(document.querySelectorAll('span.tok'));
  return {
    metric: document.body ? (document.body.dataset.metric || null) : null,
    colours: toks.map(t => t.style.backgroundColor),
    titles: toks.map(t => t.getAttribute('title')),
    rows: document.querySelectorAll('.heatmap-row').length,
  };
})()
"""


def wait_state(cdp, pred, timeout=2.0):
    """Polls the token state until pred(state) or timeout; returns last state."""
    until = time.monotonic() + timeout
    while True:
        st = cdp.eval(TOK_STATE_JS)
        if pred(st) or time.monotonic() >= until:
            return st
        cdp.pump(0.05)


def mouse_click(cdp, element_id):
    """Real mouse click at the element's centre.  Returns None or a problem."""
    box = cdp.eval("""
(() => {
  const el = document.getElementById(%s);
  if (!el) return null;
  el.scrollIntoView({block: 'center', inline: 'center'});
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {x: x, y: y, w: r.width, h: r.height,
          hit: !!hit && (hit === el || el.contains(hit))};
})()""" % json.dumps(element_id))
    if box is None:
        return "#%s not found" % element_id
    if box["w"] <= 0 or box["h"] <= 0:
        return "#%s is not visible (size %gx%g)" % (element_id, box["w"], box["h"])
    if not box["hit"]:
        return "#%s is covered by another element at its centre" % element_id
    for typ in ("mouseMoved", "mousePressed", "mouseReleased"):
        params = {"type": typ, "x": box["x"], "y": box["y"]}
        if typ != "mouseMoved":
            params.update(button="left", clickCount=1, buttons=1 if typ == "mousePressed" else 0)
        cdp.call("Input.dispatchMouseEvent", params)
    return None


def click(cdp, element_id, want_metric, problems):
    """Mouse click; falls back to element.click() (reported as a problem)."""
    why = mouse_click(cdp, element_id)
    st = wait_state(cdp, lambda s: s["metric"] == want_metric)
    if st["metric"] == want_metric:
        return st
    problems.append("real mouse click on #%s did not set body.dataset.metric to %r%s"
                    % (element_id, want_metric, (": " + why) if why else ""))
    cdp.eval("document.getElementById(%s) && document.getElementById(%s).click()"
             % (json.dumps(element_id), json.dumps(element_id)))
    return wait_state(cdp, lambda s: s["metric"] == want_metric)


def check_page(args, cdp, problems, notes):
    page_path = os.path.abspath(args.page)
    page_url = pathlib.Path(page_path).as_uri()
    target = cdp.call("Target.createTarget", {"url": "about:blank"}, browser=True)
    att = cdp.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                   browser=True)
    cdp.session = att["sessionId"]
    for dom in ("Runtime", "Log", "Page", "Network"):
        cdp.call(dom + ".enable")
    cdp.call("Emulation.setDeviceMetricsOverride", {
        "width": VIEW_W, "height": VIEW_H, "deviceScaleFactor": 1, "mobile": False})

    # h. navigate and time the load event
    mark = len(cdp.events)
    t0 = time.monotonic()
    nav = cdp.call("Page.navigate", {"url": page_url})
    if nav.get("errorText"):
        raise HarnessError("navigation to %s failed: %s" % (page_url, nav["errorText"]))
    ev = cdp.wait_event("Page.loadEventFired", mark, timeout=max(5.0, args.max_load_seconds * 5))
    if ev is None:
        raise HarnessError("page load event never fired for %s" % page_url)
    load_s = time.monotonic() - t0
    notes["load"] = load_s
    print("load time: %.3f s (navigate -> Page.loadEventFired)" % load_s)
    if load_s > args.max_load_seconds:
        problems.append("page load took %.3f s > --max-load-seconds %.3f" % (load_s, args.max_load_seconds))
    cdp.pump(0.2)  # let post-load scripts run and events arrive

    # b. sections
    missing = cdp.eval("""
(() => {
  const ids = %s;
  const miss = ids.filter(id => !document.getElementById(id));
  if (!document.querySelector('figure.scaling-plot svg')) miss.push('figure.scaling-plot svg');
  return miss;
})()""" % json.dumps(REQUIRED_IDS))
    if missing:
        problems.append("missing sections/elements: " + ", ".join(missing))
    else:
        notes["sections"] = True

    # c. expected texts in the summary table
    table_text = cdp.eval("(() => { const t = document.getElementById('summary-table');"
                          " return t ? t.innerText : null; })()")
    if table_text is None:
        if args.expect_text:
            problems.append("cannot check --expect-text: #summary-table missing")
    else:
        for txt in args.expect_text:
            if txt not in table_text:
                problems.append("text %r not found in #summary-table" % txt)

    # d. heat-map rows and their tokens
    rows = cdp.eval("""
(() => Array.from(document.querySelectorAll('.heatmap-row')).map(r => {
  const toks = Array.from(r.querySelectorAll('span.tok'));
  const num = v => v !== null && v.trim() !== '' && isFinite(Number(v));
  return {
    toks: toks.length,
    bad: toks.filter(t => !num(t.getAttribute('data-entropy-bits')) ||
                          !num(t.getAttribute('data-surprisal-bits')) ||
                          t.getAttribute('data-token-id') === null ||
                          !t.getAttribute('title')).length,
    uncoloured: toks.filter(t => !t.style.backgroundColor).length,
  };
}))()""")
    notes["rows"] = len(rows)
    if len(rows) != args.heatmap_rows:
        problems.append("found %d .heatmap-row elements, expected --heatmap-rows %d"
                        % (len(rows), args.heatmap_rows))
    empty = [i for i, r in enumerate(rows) if r["toks"] == 0]
    if empty:
        problems.append("heat-map rows without span.tok: %s" % ", ".join(map(str, empty[:10])))
    bad = sum(r["bad"] for r in rows)
    if bad:
        problems.append("%d span.tok lack numeric data-entropy-bits/data-surprisal-bits, "
                        "data-token-id or a title" % bad)
    unc = sum(r["uncoloured"] for r in rows)
    if unc:
        problems.append("%d span.tok have no inline background colour" % unc)

    # e. metric toggle
    st0 = cdp.eval(TOK_STATE_JS)
    toggle_ok = True
    if st0["metric"] != "entropy":
        problems.append("initial body.dataset.metric is %r, expected 'entropy'" % st0["metric"])
        toggle_ok = False
    if not st0["colours"]:
        problems.append("metric toggle: no span.tok to check")
        toggle_ok = False
    else:
        n_before = len(problems)
        st1 = click(cdp, "metric-surprisal", "surprisal", problems)
        st1 = wait_state(cdp, lambda s: s["colours"] != st0["colours"])
        if st1["metric"] != "surprisal":
            problems.append("after clicking #metric-surprisal body.dataset.metric is %r, "
                            "expected 'surprisal'" % st1["metric"])
        if st1["colours"] == st0["colours"]:
            problems.append("clicking #metric-surprisal did not change any span.tok background colour")
        elif sum(1 for c in st1["colours"] if not c):
            problems.append("after switching to surprisal some span.tok have no background colour")
        st2 = click(cdp, "metric-entropy", "entropy", problems)
        st2 = wait_state(cdp, lambda s: s["colours"] == st0["colours"])
        if st2["metric"] != "entropy":
            problems.append("after clicking #metric-entropy body.dataset.metric is %r, "
                            "expected 'entropy'" % st2["metric"])
        if st2["colours"] != st0["colours"]:
            diff = sum(1 for a, b in zip(st0["colours"], st2["colours"]) if a != b)
            problems.append("clicking #metric-entropy did not restore the entropy colours "
                            "(%d of %d differ%s)" % (diff, len(st0["colours"]),
                            "" if len(st0["colours"]) == len(st2["colours"]) else ", token count changed"))
        toggle_ok = toggle_ok and len(problems) == n_before
    notes["toggle"] = toggle_ok

    # f. item selection
    n_opts = cdp.eval("(() => { const s = document.getElementById('item-select');"
                      " return s && s.options ? s.options.length : 0; })()")
    if n_opts > 1:
        before = cdp.eval(TOK_STATE_JS)
        cdp.eval("""
(() => {
  const s = document.getElementById('item-select');
  s.value = s.options[1].value;
  s.dispatchEvent(new Event('input', {bubbles: true}));
  s.dispatchEvent(new Event('change', {bubbles: true}));
})()""")
        after = wait_state(cdp, lambda s: s["titles"] != before["titles"])
        if after["rows"] != args.heatmap_rows:
            problems.append("after selecting item 2 there are %d .heatmap-row, expected %d"
                            % (after["rows"], args.heatmap_rows))
        if after["titles"] == before["titles"]:
            problems.append("selecting the second #item-select option did not change the token titles")
        heading = cdp.eval("""
(() => { const s = document.getElementById('item-select'), h = document.getElementById('item-heading');
         return {id: s.options[s.selectedIndex].textContent.split(' \u2014 ')[0], text: h ? h.innerText : null}; })()""")
        if heading["text"] is not None and not heading["text"].startswith("Item " + heading["id"] + ":"):
            problems.append("#item-heading says %r for item %r" % (heading["text"], heading["id"]))
        notes["items"] = "item select ok (%d items)" % n_opts if (
            after["rows"] == args.heatmap_rows and after["titles"] != before["titles"]) else "item select FAILED"
    else:
        notes["items"] = "item select skipped (%d option)" % n_opts
        print("note: #item-select has %d option(s); item-selection check skipped" % n_opts)

    # f1. hover texts: every --expect-token-title is the start of some unit's title (all items looked at)
    if args.expect_token_title:
        titles = cdp.eval("""
(() => {
  const s = document.getElementById('item-select'), keep = s.value, seen = [];
  for (const o of Array.from(s.options).slice(0, 200)) {
    s.value = o.value;
    s.dispatchEvent(new Event('change', {bubbles: true}));
    document.querySelectorAll('#heatmap-rows span.tok').forEach(t => seen.push(t.title));
  }
  s.value = keep;
  s.dispatchEvent(new Event('change', {bubbles: true}));
  return seen;
})()""")
        for want in args.expect_token_title:
            if not any(t.startswith(want) for t in titles):
                problems.append("no unit's hover text starts with %r (%d titles seen)" % (want, len(titles)))

    # f2. "where do models disagree most": ordering the items by it outlines the unit and names it
    if args.disagreement:
        cdp.eval("""
(() => {
  const o = document.getElementById('item-order');
  o.value = 'disagreement';
  o.dispatchEvent(new Event('change', {bubbles: true}));
})()""")
        cdp.pump(0.2)
        st = cdp.eval("(() => ({outlined: document.querySelectorAll('#heatmap-rows span.tok.disagree').length,"
                      " text: (document.getElementById('disagreement') || {}).innerText || ''}))()")
        if st["outlined"] < 2 or "Largest disagreement" not in st["text"]:
            problems.append("ordering items by disagreement outlined %d unit(s), text %r"
                            % (st["outlined"], st["text"][:120]))
        else:
            print("disagreement: " + st["text"])

    # f3. two models picked in #compare-a / #compare-b: only their rows, the items ordered by where
    # they disagree most, the unit outlined in one row of each and named with both models
    if args.compare:
        a, b = args.compare
        st = cdp.eval("""
(() => {
  const set = (id, v) => { const s = document.getElementById(id); s.value = v;
                           s.dispatchEvent(new Event('change', {bubbles: true})); return s.value === v; };
  const ok = set('item-order', 'disagreement') && set('compare-a', %s) && set('compare-b', %s);
  const rows = Array.from(document.querySelectorAll('.heatmap-row'));
  const outlined = Array.from(document.querySelectorAll('#heatmap-rows span.tok.disagree'));
  return {ok: ok, models: rows.map(r => r.dataset.model),
          outlined: outlined.map(t => t.closest('.heatmap-row').dataset.model),
          text: (document.getElementById('disagreement') || {}).innerText || '',
          first: document.getElementById('item-select').selectedIndex};
})()""" % (json.dumps(a), json.dumps(b)))
        if not st["ok"]:
            problems.append("--compare: #compare-a/#compare-b have no option %r or %r" % (a, b))
        elif set(st["models"]) != {a, b}:
            problems.append("--compare %s %s: heat-map rows are of %s" % (a, b, sorted(set(st["models"]))))
        elif sorted(st["outlined"]) != sorted([a, b]) or a not in st["text"] or b not in st["text"] \
                or st["first"] != 0:
            problems.append("--compare %s %s: outlined units in rows of %s, item index %s, text %r"
                            % (a, b, st["outlined"], st["first"], st["text"][:160]))
        else:
            print("compare: " + st["text"])
        # one model against all the others: every row back, the gap is between A and another model
        st = cdp.eval("""
(() => {
  const s = document.getElementById('compare-b'); s.value = '';
  s.dispatchEvent(new Event('change', {bubbles: true}));
  const outlined = Array.from(document.querySelectorAll('#heatmap-rows span.tok.disagree'));
  return {rows: document.querySelectorAll('.heatmap-row').length,
          outlined: outlined.map(t => t.closest('.heatmap-row').dataset.model),
          text: (document.getElementById('disagreement') || {}).innerText || ''};
})()""")
        if st["rows"] != args.heatmap_rows or len(st["outlined"]) != 2 or a not in st["outlined"] or a not in st["text"]:
            problems.append("--compare %s against all others: %d rows, outlined in rows of %s, text %r"
                            % (a, st["rows"], st["outlined"], st["text"][:160]))
        else:
            print("compare against all: " + st["text"])
        cdp.eval("""
(() => { ['compare-a', 'compare-b'].forEach(id => { const s = document.getElementById(id); s.value = '';
  s.dispatchEvent(new Event('change', {bubbles: true})); }); })()""")

    # g. screenshot of the top of the page, 1280x800 viewport
    cdp.eval("window.scrollTo(0, 0)")
    cdp.pump(0.1)
    shot = cdp.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
    png = base64.b64decode(shot["data"])
    out = os.path.abspath(args.screenshot)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(png)
    notes["screenshot"] = out
    try:
        w, h, ncol, frac = png_colour_stats(png)
    except (ValueError, zlib.error) as e:
        problems.append("cannot decode screenshot %s: %s" % (out, e))
    else:
        print("screenshot: %s (%dx%d, %d colours, %.1f%% pixels differ from the most common)"
              % (out, w, h, ncol, 100 * frac))
        if (w, h) != (VIEW_W, VIEW_H):
            problems.append("screenshot is %dx%d, expected %dx%d" % (w, h, VIEW_W, VIEW_H))
        if frac < 0.01 or ncol < 20:
            problems.append("screenshot looks blank: %d distinct colours, %.2f%% pixels differ "
                            "from the most common (need >= 20 and >= 1%%)" % (ncol, 100 * frac))

    # a. errors during load and interactions (+ external requests)
    cdp.pump(0.2)
    for e in page_errors(cdp, page_url):
        problems.append("page error: " + e)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--page", required=True, help="report.html to test")
    ap.add_argument("--heatmap-rows", type=int, required=True,
                    help="expected number of .heatmap-row (models x conditions)")
    ap.add_argument("--expect-text", action="append", default=[],
                    help="text that must appear in #summary-table (repeatable)")
    ap.add_argument("--screenshot", required=True, help="where to write the PNG screenshot")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--timeout", type=float, default=60.0, help="overall limit in seconds")
    ap.add_argument("--max-load-seconds", type=float, default=2.0)
    ap.add_argument("--disagreement", action="store_true",
                    help="also order the items by #item-order = disagreement and check the outlined unit")
    ap.add_argument("--expect-token-title", action="append", default=[],
                    help="the start of some unit's hover text, e.g. '\"\\xE2\"' (repeatable)")
    ap.add_argument("--compare", nargs=2, metavar=("MODEL_A", "MODEL_B"),
                    help="also compare these two models (#compare-a, #compare-b) under the disagreement order")
    args = ap.parse_args(argv)

    if not os.path.isfile(args.page):
        print("FAIL: page not found: %s" % args.page)
        return 1

    # Make SIGTERM/SIGHUP run the finally-cleanup below (kill chromium, rm temp dir).
    def _term(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGHUP, _term)

    t_start = time.monotonic()
    deadline = t_start + args.timeout
    problems, notes = [], {}
    browser = Chromium(args.chromium, deadline)
    cdp = None
    try:
        url = browser.start()
        cdp = CDP(url, deadline)
        check_page(args, cdp, problems, notes)
    except HarnessError as e:
        problems.append(str(e))
        if cdp is not None:
            try:
                for err in page_errors(cdp, pathlib.Path(os.path.abspath(args.page)).as_uri()):
                    problems.append("page error: " + err)
            except Exception:  # noqa: BLE001
                pass
    finally:
        if cdp is not None:
            cdp.close()
        browser.stop()

    total = time.monotonic() - t_start
    if problems:
        for p in problems:
            print("FAIL: " + p)
        print("FAILED: %d problem(s) in %s (harness %.1f s)" % (len(problems), args.page, total))
        return 1
    print("OK: sections ok, %d heat-map rows, toggle ok, %s, load %.3f s, screenshot %s (harness %.1f s)"
          % (notes["rows"], notes["items"], notes["load"], notes["screenshot"], total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
