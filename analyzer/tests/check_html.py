#!/usr/bin/python3
"""kstall report --html on one fixture, loaded in headless Chromium.

Usage: check_html.py KSTALL OUTDIR NAME VMCORE VMLINUX TRUTH.json [--markup-comm] [--oom-kills]
                     [--cut-tail=BYTES]

Drives Chromium over the DevTools protocol on --remote-debugging-pipe (the
standard library is enough) and checks: the page loads with no console error,
no exception and no network request; the DOM holds the verdict and both SVG
pictures with their tasks and locks; every role of truth.json is in the task
table; a comm holding markup renders as inert text (with --markup-comm the
fixture must have one); every event of report --json is a row of the events
table with its kind, pid, time and log line, linked to its task's row when the
task exists; each OOM kill tick on the timeline is one of those kills (with
--oom-kills the fixture must have some, each drawn). The layout: no two text
labels of any SVG overlap (the zone watermarks' min, low and high often lie a
pixel apart); the dump facts are the page's first element; the problems and
kernel support gaps are each folded in a closed <details> whose summary counts
them (per code), holding every one of report --json's; and on a 1280x800
screen the verdict shows on the first screen and the wait-for graph begins
within the first two, however many problems there are. With --cut-tail the
page is made from a copy of VMCORE without its last BYTES (a dump cut short,
as a full disk leaves it), which must give many problems. Then it proves the
probe itself sees a request and a console error on a page that makes them.
Leaves OUTDIR/html-NAME.html, .dom.html, .png (a screenshot of the top 2000
pixels) and -first.png (the first 1280x800 screen) behind.
"""
import base64
import collections
import fcntl
import json
import os
import re
import select
import shutil
import subprocess

import kstall_report
import sys
import tempfile
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT = 60


class Browser:
    """Chromium with the DevTools protocol on fds 3 (commands in) and 4 (replies out), NUL-separated JSON."""

    def __init__(self, profile):
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # Out of the way of 3 and 4 before the child's dup2.
        to_r2 = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
        from_w2 = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
        os.close(to_r)
        os.close(from_w)

        def child_fds():
            os.dup2(to_r2, 3)
            os.dup2(from_w2, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
             "--window-size=1280,2000", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(f"{profile}/stderr", "w"),
            preexec_fn=child_fds, pass_fds=(3, 4), close_fds=True)
        os.close(to_r2)
        os.close(from_w2)
        self.w, self.r = to_w, from_r
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                return None
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self._read_message(deadline)
            if m is None:
                raise RuntimeError(f"no answer to {method}")
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def wait_event(self, method, seconds=TIMEOUT):
        deadline = time.monotonic() + seconds
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            m = self._read_message(deadline)
            if m is None:
                raise RuntimeError(f"no {method} within {seconds} s")
            self.events.append(m)

    def pump(self, seconds):
        """Collect late events (a request started by a script after load, say)."""
        deadline = time.monotonic() + seconds
        while (m := self._read_message(deadline)) is not None:
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)


def viewport(b, s, height):
    b.send("Emulation.setDeviceMetricsOverride",
           {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=s)


def open_page(b):
    target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        b.send(f"{domain}.enable", session=s)
    viewport(b, s, 2000)
    return s


def load(b, s, url):
    b.events.clear()
    b.send("Page.navigate", {"url": url}, session=s)
    b.wait_event("Page.loadEventFired")
    b.pump(1.0)
    problems, requests = [], []
    for e in b.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            problems.append(f"console {p['type']}: " +
                            " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            problems.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {p['entry']['level']}: {p['entry']['text']}")
        elif m == "Network.requestWillBeSent" and p["request"]["url"] != url:
            requests.append(p["request"]["url"])
    return problems, requests


def evaluate(b, s, expr):
    r = b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=s)
    if "exceptionDetails" in r:
        raise RuntimeError(f"evaluate {expr}: {r['exceptionDetails']}")
    return r["result"].get("value")


FACTS = r"""(() => {
  const q = (s) => document.querySelectorAll(s);
  const visible = () => Array.from(q('#tasks tbody tr')).filter(r => !r.hidden).length;
  const facts = {
    title: document.title,
    verdict: (document.querySelector('#verdict .kind') || {}).textContent,
    svgs: Array.from(q('svg')).map(s => s.id),
    imgs: q('img').length, bolds: q('b').length, scripts: q('script').length,
    text: document.body.innerText,
    graph_task_links: Array.from(q('#waitfor-graph .node.task a')).map(a => a.getAttribute('href')),
    graph_text: (document.getElementById('waitfor-graph') || {}).textContent,
    graph_size: (() => { const r = document.getElementById('waitfor-graph').getBoundingClientRect();
                         return [r.width, r.height]; })(),
    bars: q('#stall-timeline .bar').length,
    bar_titles: Array.from(q('#stall-timeline .bar title')).map(t => t.textContent),
    rows: q('#tasks tbody tr').length, row_ids: Array.from(q('#tasks tbody tr')).map(r => r.id),
    shown_stalled: visible(),
    groups: q('details.grp').length,
    log_lines: q('#log-relevant tr').length,
    events: Array.from(q('#events-table tbody tr')).map(r => {
      const a = r.cells[2].querySelector('a');
      const href = a ? a.getAttribute('href') : null;
      const target = href ? document.getElementById(href.slice(1)) : null;
      return {id: r.id, kind: r.getAttribute('data-kind'), pid: r.getAttribute('data-pid'),
              time: r.cells[0].textContent, task: r.cells[2].textContent, href: href,
              target_comm: target ? target.cells[2].textContent : null, text: r.cells[3].textContent};
    }),
    consumers: {
      processes: Array.from(q('#consumers-processes tbody tr')).map(r => parseInt(r.getAttribute('data-pid'))),
      files: Array.from(q('#consumers-files tbody tr')).map(r => r.cells[0].textContent),
      slab: Array.from(q('#consumers-slab tbody tr')).map(r => [r.cells[0].textContent, r.cells[1].textContent]),
      cgroups: Array.from(q('#consumers-cgroups tbody tr')).map(r => r.cells[0].textContent),
    },
    onsets: Array.from(q('#stall-timeline g.onset')).map(g => ({
      onset: parseFloat(g.getAttribute('data-onset')), min: parseFloat(g.getAttribute('data-min')),
      max: parseFloat(g.getAttribute('data-max')), title: g.querySelector('title').textContent,
      band: g.querySelector('rect').getBBox().width})),
    kills: Array.from(q('#stall-timeline g.kill')).map(g => {
      const a = g.querySelector('a'), href = a ? a.getAttribute('href') : null;
      return {pid: g.getAttribute('data-pid'), href: href, title: g.querySelector('title').textContent,
              target: href ? !!document.getElementById(href.slice(1)) : null};
    }),
  };
  const f = document.getElementById('filter'), o = document.getElementById('only-stalled');
  o.checked = false; o.dispatchEvent(new Event('change'));
  facts.shown_all = visible();
  f.value = 'no task is called this'; f.dispatchEvent(new Event('input'));
  facts.shown_nothing = visible();
  f.value = ''; f.dispatchEvent(new Event('input'));
  document.getElementById('collapse').click();
  facts.open_after_collapse = q('details.grp[open]').length;
  return facts;
})()"""


# Measured on the page as loaded, before FACTS filters and folds. Boxes are the
# rendered glyphs' (getBoundingClientRect): what a reader sees overlap.
LAYOUT = r"""(() => {
  const page = (e) => { const r = e.getBoundingClientRect();
                        return {top: r.top + scrollY, bottom: r.bottom + scrollY}; };
  const overlaps = [], TOL = 1;
  let texts = 0;
  document.querySelectorAll('svg').forEach(svg => {
    const boxes = Array.from(svg.querySelectorAll('text'))
      .map(t => ({text: t.textContent, r: t.getBoundingClientRect()}))
      .filter(x => x.r.width > 0 && x.r.height > 0)
      .sort((p, q) => p.r.left - q.r.left);
    texts += boxes.length;
    for (let i = 0; i < boxes.length; i++) {
      const a = boxes[i].r;
      for (let j = i + 1; j < boxes.length && boxes[j].r.left < a.right - TOL; j++) {
        const c = boxes[j].r;
        const w = Math.min(a.right, c.right) - Math.max(a.left, c.left);
        const h = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top);
        if (w > TOL && h > TOL)
          overlaps.push(`#${svg.id}: ${JSON.stringify(boxes[i].text)} and ${JSON.stringify(boxes[j].text)} ` +
                        `overlap by ${w.toFixed(1)}x${h.toFixed(1)} px`);
      }
    }
  });
  const fold = (id) => {
    const d = document.getElementById(id);
    if (!d) return null;
    const items = Array.from(d.querySelectorAll('li'));
    return {open: d.open, tag: d.tagName, summary: d.querySelector('summary').textContent,
            items: items.map(li => ({code: li.getAttribute('data-code'), text: li.textContent,
                                     msg: (li.querySelector('.msg') || {}).textContent})),
            rendered: items.filter(li => li.checkVisibility()).length};
  };
  const header = document.body.firstElementChild, verdict = document.getElementById('verdict');
  return {
    overlaps: overlaps, texts: texts,
    problems: fold('problems'), support: fold('kernel-support'),
    first: header.tagName, facts: (header.querySelector('.facts') || {}).textContent,
    header_text: header.textContent, header: page(header),
    verdict: page(verdict), verdict_h2: page(verdict.querySelector('h2')),
    summary: verdict.querySelector('.summary') ? page(verdict.querySelector('.summary')) : null,
    graph: page(document.getElementById('graph')),
  };
})()"""

SCREEN = 800  # the first screen of a 1280x800 laptop


def check_memory_bar(report, bar):
    """Where RAM went: each part is the report's own counters, the parts fill the bar in proportion."""
    pg = report["memory"]["pages"]
    want = {"anon": pg["anon"], "page cache": max(pg["file"] - pg["shmem"], 0), "shmem": pg["shmem"],
            "slab": pg["slab_reclaimable"] + pg["slab_unreclaimable"], "kernel stacks": pg["kernel_stack"],
            "page tables": pg["pagetables"], "free": pg["free"]}
    want["other kernel"] = max(pg["total"] - sum(want.values()), 0)
    got = {part: pages for part, pages, _ in bar}
    failures = []
    if got != want:
        failures.append(f"memory bar parts {got}, the report's counters {want}")
    total = sum(p for _, p, _ in bar)
    for part, pages, width in bar:
        if total and abs(width - 720 * pages / total) > 1:
            failures.append(f"memory bar: {part} is {width:.1f} px wide for {pages} of {total} pages")
    return failures


def check_layout(report, layout):
    """Labels that overlap, the folded problems, what the first screens show."""
    failures = [f"text labels overlap in {o}" for o in layout["overlaps"]]
    # The dump facts first: two reports must never look alike.
    d, release = report["dump"], report["kernel"]["release"]
    if layout["first"] != "HEADER":
        failures.append(f"the page's first element is <{layout['first']}>, not the dump facts' <header>")
    want = [release, d["host"] or "(unknown)", d["crash_time"] or "(time unknown)"]
    want += [d["panic"]] if d["panic"] else []
    want += [d["vmlinux"], "kstall " + d["kstall_version"]]
    for w in want:
        if w not in layout["header_text"]:
            failures.append(f"the dump facts header does not say {w!r}: {layout['header_text']!r}")
    if layout["header"]["bottom"] > layout["verdict"]["top"] or layout["header"]["bottom"] > SCREEN:
        failures.append(f"the dump facts header ends at {layout['header']['bottom']:.0f} px, the verdict "
                        f"begins at {layout['verdict']['top']:.0f} px")
    # Every problem, folded, under a summary that counts them.
    failures += check_fold("problems", layout["problems"], [(p["code"], p["message"]) for p in report["problems"]])
    failures += check_fold("kernel-support", layout["support"],
                           [(None, f"{g['capability']}: {g['cost']}") for g in report["kernel_support"]])
    # The verdict on the first screen; the graph (when there is one) on the first two.
    top = layout["summary"] or layout["verdict_h2"]
    if layout["verdict_h2"]["bottom"] > SCREEN or top["top"] + 20 > SCREEN:
        failures.append(f"the verdict is not on the first {SCREEN} px screen: heading {layout['verdict_h2']}, "
                        f"summary {layout['summary']}")
    if report["locks"] and layout["graph"]["top"] > 2 * SCREEN:
        failures.append(f"the wait-for graph begins at {layout['graph']['top']:.0f} px, past the first two "
                        f"{SCREEN} px screens ({len(report['problems'])} problems)")
    return failures


def check_fold(name, fold, want):
    """A closed <details id=name> whose summary counts want, listing each of it in order."""
    if not want:
        return [f"#{name} is on the page, yet report --json has none: {fold['summary']!r}"] if fold else []
    if not fold or fold["tag"] != "DETAILS":
        return [f"{len(want)} {name} but no <details id={name}> on the page"]
    failures = []
    if fold["open"] or fold["rendered"]:
        failures.append(f"#{name} is open ({fold['rendered']} lines rendered): it should be folded")
    counts = [int(n) for n in re.findall(r"(\d+) (?:problems?|things?)\b", fold["summary"])]
    if counts != [len(want)]:
        failures.append(f"#{name}'s summary {fold['summary']!r} does not count {len(want)}")
    if name == "problems":
        per_code = {c: int(n) for n, c in re.findall(r"(\d+) ([a-z_]+)(?=[,)])", fold["summary"])}
        if per_code != dict(collections.Counter(c for c, _ in want)):
            failures.append(f"#{name}'s summary {fold['summary']!r} does not count per code "
                            f"{dict(collections.Counter(c for c, _ in want))}")
        got = [(i["code"], i["msg"]) for i in fold["items"]]
    else:
        got = [(None, i["text"]) for i in fold["items"]]
    if got != want:
        diff = next((f"{g!r} for {w!r}" for g, w in zip(got, want) if g != w), "")
        failures.append(f"#{name} lists {len(got)} lines, report --json {len(want)}: {diff}")
    return failures


EVENTS_SHOWN = 500  # html.c EV_MAX: the newest are shown
TL_MAX_BARS = 150  # html.c: the longest stalls are drawn


def check_consumers(report, facts):
    """The memory section's tables of who holds the memory, row by row against report --json."""
    failures = []
    cons = report["memory"]["consumers"]
    page = report["memory"]["page_size"]
    want = {
        "processes": [p["pid"] for p in cons["processes"] or [] if p["rss_bytes"] or p["swap_bytes"]],
        "files": [f["file"]["path"] if f["file"] else None for f in cons["files"] or []],
        "slab": [[c["name"], f"{c['bytes'] / 1048576:.1f} MiB"]
                 for c in ((cons["slab"] or {}).get("caches") or [])],
        "cgroups": [g["path"] for g in cons["cgroups"] or []],
    }
    got = facts["consumers"]
    for key in ("processes", "slab", "cgroups"):
        if got[key] != want[key]:
            failures.append(f"memory consumers {key}: page {got[key]}, report --json {want[key]}")
    # a file's cell is its label: the path, or where it lives for one in no tree
    if len(got["files"]) != len(want["files"]) or any(w and w not in g for g, w in zip(got["files"], want["files"])):
        failures.append(f"memory consumers files: page {got['files']}, report --json {want['files']}")
    del page
    return failures


def check_events(report, facts, oom_kills):
    """The events table row by row against report --json, and the timeline's OOM kill ticks."""
    failures = []
    events = report["events"][-EVENTS_SHOWN:]
    rows = facts["events"]
    if len(rows) != len(events):
        failures.append(f"events table has {len(rows)} rows, report --json {len(events)} events")
    for row, ev in zip(rows, events):
        what = f"event seq {ev['seq']} ({ev['kind']}, pid {ev['pid']})"
        want_time = "?" if ev["seconds_before"] is None else f"{ev['seconds_before']:.1f} s"
        got = (row["id"], row["kind"], row["pid"], row["time"], row["text"])
        want = (f"event-{ev['seq']}", ev["kind"], "" if ev["pid"] is None else str(ev["pid"]), want_time,
                ev["text"])
        if got != want:
            failures.append(f"{what}: row {got}, want {want}")
        if ev["task_found"]:
            # a line that names no comm (a memcg OOM report) is linked by its printer's pid alone
            if row["href"] != f"#task-{ev['pid']}" or (ev["comm"] and row["target_comm"] != ev["comm"]):
                failures.append(f"{what}: links to {row['href']} (comm {row['target_comm']!r})")
        elif row["href"] is not None or ev["comm"] not in row["task"]:
            failures.append(f"{what}: its task is gone, yet the cell is {row['task']!r} -> {row['href']}")
    # A kill whose row the table leaves out is drawn without a link.
    first = len(report["events"]) - len(events)
    kills = {(str(e["pid"]), f"#event-{e['seq']}" if i >= first else None)
             for i, e in enumerate(report["events"]) if e["kind"] == "oom_kill"}
    ticks = [(k["pid"], k["href"]) for k in facts["kills"]]
    if any(t not in kills for t in ticks) or len(set(ticks)) != len(ticks):
        failures.append(f"timeline OOM kill ticks {ticks} are not the log's kills {sorted(kills, key=str)}")
    if any(k["target"] is False or "OOM kill of" not in k["title"] for k in facts["kills"]):
        failures.append(f"a timeline OOM kill tick has no title or no target row: {facts['kills']}")
    if oom_kills and (not kills or set(ticks) != kills):
        failures.append(f"this fixture's OOM kills {sorted(kills, key=str)} should each be a timeline tick: {ticks}")
    # The system's memory stall onset from PSI is drawn behind the bars, where there are bars.
    pr = report["memory"]["pressure"]
    onset = pr["onset_seconds"] if pr else None
    bars = any(t["stall"] for t in report["tasks"])
    want = [] if onset is None or not bars else [(round(onset, 1), round(pr["onset_min_seconds"], 1),
                                                  round(pr["onset_max_seconds"], 1)
                                                  if pr["onset_max_seconds"] is not None else -1.0)]
    got = [(o["onset"], o["min"], o["max"]) for o in facts["onsets"]]
    if got != want or any("memory stall began" not in o["title"] or o["band"] < 0 for o in facts["onsets"]):
        failures.append(f"timeline onset {facts['onsets']}, report --json {want}")
    return failures


def cut_tail(vmcore, cut, outdir):
    """A copy of vmcore without its last cut bytes."""
    path = os.path.join(outdir, "vmcore")
    size = os.path.getsize(vmcore) - cut
    with open(vmcore, "rb") as src, open(path, "wb") as dst:
        while size > 0:
            chunk = src.read(min(size, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            size -= len(chunk)
    return path


def cut_env():
    """As check_damaged.py runs kstall on a cut dump: libaddrxlat's known leak there (lsan.supp) suppressed
    (with the default unwinder: the suppression names the libraries)."""
    env = dict(os.environ)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp")
    env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"), f"suppressions={supp}",
                                                "print_suppressions=0"]))
    return env


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markup_comm = "--markup-comm" in sys.argv
    oom_kills = "--oom-kills" in sys.argv
    cut = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--cut-tail=")), 0)
    kstall, outdir, name, vmcore, vmlinux, truth_path = args[:6]
    truth = json.load(open(truth_path))
    html = os.path.join(outdir, f"html-{name}.html")
    failures = []
    env = cut_env() if cut else None
    with tempfile.TemporaryDirectory(prefix="kstall-cut-", dir=outdir) as cutdir:
        if cut:
            vmcore = cut_tail(vmcore, cut, cutdir)
        p = subprocess.run([kstall, "report", "--html", html, vmcore, vmlinux], capture_output=True, text=True,
                           env=env)
        if p.returncode not in (0, 1) or "Sanitizer" in p.stderr:
            sys.exit(f"kstall report --html exited {p.returncode}: {p.stderr}")
        # a cut copy's path is new each run: keeping its report would only fill the cache
        report = json.loads((subprocess.run([kstall, "report", "--json", vmcore, vmlinux], capture_output=True,
                                            text=True, env=env) if cut
                             else kstall_report.run(kstall, vmcore, vmlinux)).stdout)
    if cut and len(report["problems"]) < 10:
        failures.append(f"cut by {cut} bytes, the dump gives {len(report['problems'])} problems; want many")

    with tempfile.TemporaryDirectory(prefix="kstall-chromium-") as profile:
        b = Browser(profile)
        try:
            s = open_page(b)
            url = "file://" + os.path.abspath(html)
            problems, requests = load(b, s, url)
            failures += [f"page: {x}" for x in problems]
            failures += [f"page made a network request: {u}" for u in requests]
            viewport(b, s, SCREEN)
            evaluate(b, s, "window.scrollTo(0, 0)")
            layout = evaluate(b, s, LAYOUT)
            shot = b.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"]
            open(os.path.join(outdir, f"html-{name}-first.png"), "wb").write(base64.b64decode(shot))
            viewport(b, s, 2000)
            facts = evaluate(b, s, FACTS)
            bar = evaluate(b, s, "Array.from(document.querySelectorAll('#memory-bar rect.ram-part'))"
                                 ".map(r => [r.dataset.part, Number(r.dataset.pages), "
                                 "r.getBoundingClientRect().width])")
            dom = evaluate(b, s, "document.documentElement.outerHTML")
            open(os.path.join(outdir, f"html-{name}.dom.html"), "w").write(dom)
            evaluate(b, s, "window.scrollTo(0, 0)")
            shot = b.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"]
            open(os.path.join(outdir, f"html-{name}.png"), "wb").write(base64.b64decode(shot))

            # The probe must see what it looks for, or its silence above proves nothing.
            probe = ("data:text/html,<img src='http://127.0.0.1:9/kstall-probe.png'>"
                     "<script>console.error('kstall-probe')</script>")
            problems, requests = load(b, s, probe)
            if not any("kstall-probe" in u for u in requests):
                failures.append(f"the probe page's request was not seen: {requests}")
            if not any("kstall-probe" in x for x in problems):
                failures.append(f"the probe page's console error was not seen: {problems}")
        finally:
            b.close()

    kind = report["verdicts"][0]["kind"]
    # A dump cut short loses tasks, and with them part of a cause's evidence: there the truth's
    # cause must still be one of the first two (the fork storm: alloc_storm and fork_storm).
    ranked = [v["kind"] for v in report["verdicts"][:2 if cut else 1]]
    if truth["root_cause"] not in ranked:
        failures.append(f"report verdicts {ranked}, truth {truth['root_cause']}")
    if facts["verdict"] != kind or f'<span class="kind">{kind}</span>' not in dom:
        failures.append(f"the page's verdict is {facts['verdict']!r}, the report's {kind!r}")
    if report["verdicts"][0]["summary"] not in facts["text"]:
        failures.append("the verdict summary is not on the page")
    for svg in ("waitfor-graph", "stall-timeline"):
        if svg not in facts["svgs"] or f'<svg id="{svg}"' not in dom:
            failures.append(f"no <svg id={svg}> in the DOM: {facts['svgs']}")
    if facts["rows"] != len(report["tasks"]):
        failures.append(f"task table has {facts['rows']} rows, the report {len(report['tasks'])} tasks")
    if len(set(facts["row_ids"])) != len(facts["row_ids"]):
        failures.append("task rows have duplicate ids")
    if facts["shown_all"] != facts["rows"] or facts["shown_nothing"] != 0:
        failures.append(f"filter: all {facts['shown_all']}, no match {facts['shown_nothing']}")
    if facts["open_after_collapse"] != 0 or not facts["groups"]:
        failures.append(f"stack groups: {facts['groups']}, open after collapse {facts['open_after_collapse']}")

    # The graph: each role that waits is a task node, each lock it waits on a lock node with its address.
    for role in truth["roles"]:
        if f"task-{role['pid']}" not in facts["row_ids"]:
            failures.append(f"role {role['role']} pid {role['pid']} has no task row")
        if role["waits_on"]:
            if f"#task-{role['pid']}" not in facts["graph_task_links"]:
                failures.append(f"role {role['role']} pid {role['pid']} is not in the wait-for graph")
            if role["waits_on"] not in facts["graph_text"]:
                failures.append(f"lock {role['waits_on']} is not in the wait-for graph")
    stalled_with_start = [t for t in report["tasks"] if t["stall"] and (t["alloc"] or t["waits_on"]
                                                                          or t["state"] == "D")]
    drawn = min(TL_MAX_BARS, len([t for t in stalled_with_start if not t["idle"]]))
    if facts["bars"] != drawn:
        failures.append(f"timeline has {facts['bars']} bars, want {drawn} (of the report's "
                        f"{len(stalled_with_start)} stalled tasks with a start)")
    for title in facts["bar_titles"]:
        if "start from" not in title or not any(src in title for src in (
                "sched_info", "memalloc", "delay", "last_switch_time", "PSI", "the log: its first OOM")):
            failures.append(f"a timeline bar does not say where its start comes from: {title!r}")
    if not facts["graph_size"][0] or not facts["graph_size"][1]:
        failures.append(f"the wait-for graph has no size: {facts['graph_size']}")

    failures += check_events(report, facts, oom_kills)
    failures += check_consumers(report, facts)
    failures += check_memory_bar(report, bar)
    failures += check_layout(report, layout)

    # Markup in a comm stays text.
    markup = [t["comm"] for t in report["tasks"] if "<" in t["comm"] or "&" in t["comm"]]
    if markup_comm and not markup:
        failures.append("this fixture should have a task whose comm holds markup")
    if facts["imgs"] or facts["bolds"]:
        failures.append(f"markup from the dump became elements: {facts['imgs']} <img>, {facts['bolds']} <b>")
    if facts["scripts"] != 1:
        failures.append(f"{facts['scripts']} <script> elements, kstall writes one")
    for comm in markup:
        if comm not in facts["text"] or comm not in facts["graph_text"] + "".join(facts["bar_titles"]):
            failures.append(f"comm {comm!r} is not shown as text")
    if "<img" in open(html).read():
        failures.append("the HTML file holds an <img tag")

    print(f"{name}: verdict {facts['verdict']}, svgs {facts['svgs']}, {len(facts['graph_task_links'])} graph "
          f"tasks, {facts['bars']} timeline bars, {facts['rows']} rows ({facts['shown_stalled']} stalled "
          f"shown), {facts['groups']} stack groups, {len(facts['events'])} events, {len(facts['kills'])} "
          f"OOM kill ticks, {facts['log_lines']} log lines, markup comms {markup}, {layout['texts']} SVG "
          f"labels, {len(report['problems'])} problems, graph at {layout['graph']['top']:.0f} px; "
          f"screenshots {outdir}/html-{name}.png, -first.png")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


main()
