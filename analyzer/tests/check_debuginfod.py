#!/usr/bin/python3
"""kstall finds the vmlinux through a real debuginfod server on loopback.

Usage: check_debuginfod.py KSTALL VMCORE VMLINUX
Starts Debian's debuginfod scanning a directory that holds only VMLINUX, points
DEBUGINFOD_URLS at it, and runs `kstall ps VMCORE` with no vmlinux argument.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

kstall, vmcore, vmlinux = sys.argv[1:4]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split()[-1]
    sys.exit(f"{path} has no build-id")


with tempfile.TemporaryDirectory() as tmp:
    served = os.path.join(tmp, "served")
    os.mkdir(served)
    os.symlink(os.path.abspath(vmlinux), os.path.join(served, "vmlinux"))
    port = free_port()
    server = subprocess.Popen(
        ["debuginfod", "-F", "-L", "-p", str(port), "-d", os.path.join(tmp, "db.sqlite"),
         "-t", "0", "-g", "0", served],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        bid = build_id(vmlinux)
        deadline = time.time() + 120
        while True:  # wait until the scan has indexed the vmlinux
            try:
                with urllib.request.urlopen(f"{url}/buildid/{bid}/debuginfo", timeout=5) as r:
                    r.read(16)
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("debuginfod never served the vmlinux")
                time.sleep(0.5)
        env = dict(os.environ, DEBUGINFOD_URLS=url,
                   DEBUGINFOD_CACHE_PATH=os.path.join(tmp, "cache"))
        p = subprocess.run([kstall, "ps", "--json", vmcore], capture_output=True, text=True,
                           env=env)
        if p.returncode != 0 or '"tasks"' not in p.stdout:
            sys.exit(f"kstall via debuginfod: exit {p.returncode}: {p.stderr}")
        # The report says where the vmlinux came from and how it was checked.
        r = subprocess.run([kstall, "report", "--json", vmcore], capture_output=True, text=True,
                           env=env)
        dump = json.loads(r.stdout)["dump"] if r.returncode in (0, 1) else {}
        if (dump.get("vmlinux_found"), dump.get("vmlinux_check")) != ("debuginfod", "build_id"):
            sys.exit(f"report via debuginfod: exit {r.returncode}, dump facts {dump}")
        # Without the server the same command must say what is missing, not crash.
        env["DEBUGINFOD_URLS"] = ""
        q = subprocess.run([kstall, "ps", vmcore], capture_output=True, text=True, env=env)
        if q.returncode != 2 or "no vmlinux" not in q.stderr:
            sys.exit(f"without debuginfod: exit {q.returncode}: {q.stderr}")
        print("kstall found the vmlinux through debuginfod; without it, a clear error")
    finally:
        server.terminate()
        server.wait(timeout=30)
