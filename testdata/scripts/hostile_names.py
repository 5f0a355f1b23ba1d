#!/usr/bin/python3
"""Make a copy of a fixture vmcore whose task names and one log line hold terminal escapes.

Usage: hostile_names.py FIXTURE_DIR VMLINUX OUT_DIR

Any user on a machine can set its own threads' comm (prctl(PR_SET_NAME)) and root can
write a log line (/dev/kmsg): a dump carries whatever bytes they chose, and kstall's text
output must not hand them to the reader's terminal. Writes into OUT_DIR:

  hostile-names.vmcore  FIXTURE_DIR's dump (lean/abba) with several tasks' comm bytes
                        (task_struct.comm) and the text of one log record overwritten:
                        an OSC title sequence (ESC ] 0 ; ... BEL), an SGR colour (ESC [ 31 m),
                        a C1 CSI in UTF-8 (0xc2 0x9b), a byte that is no UTF-8 (0xff), DEL,
                        a backslash, a tab and a newline
  hostile.json          what was written: for each pid the comm bytes before and after (hex),
                        and the log record's text before and after

The edits are made on the uncompressed form (vmcore.kdump.xz) and recompressed with
makedumpfile, as damage.py does; drgn finds the addresses on the undamaged dump.
"""
import json
import lzma
import os
import sys

import drgn
from drgn.helpers.linux.pid import find_task

from damage import PAGE, Diskdump, kvirt_to_phys, recompress

# comm is 16 bytes with its NUL: each name at most 15
COMMS = {
    42: b"\x1b]0;pwned\x07",       # abba_t1: retitles the terminal
    43: b"\x1b[31mred",            # abba_t2: red text from here on
    44: b"c1\xc2\x9b" b"31m",      # abba_waiter: the same as a C1 CSI, valid UTF-8
    45: b"bad\xffutf8",            # rwsem_reader: a byte that is no UTF-8
    46: b"del\x7f",                # rwsem_writer: DEL
    48: b"tab\tnl\nx",             # stall_reporter: a tab and a newline (a forged line)
    49: b"back\\slash",            # abba_user: a backslash, kept as it is
}
# one hung-task line's comm in the log, the same length as what it replaces
LOG_FROM = b"INFO: task <b>x</b><img>:47"
LOG_TO = b"INFO: task \x1b]2;logs\x07\x1b[5m:47"


def patch_virt(dd, prog, addr, data):
    """data at kernel virtual address addr, a page at a time (each may lie anywhere)."""
    while data:
        n = min(len(data), PAGE - addr % PAGE)
        dd.patch(kvirt_to_phys(prog, addr), data[:n])
        addr, data = addr + n, data[n:]


def main():
    fixture, vmlinux, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    vmcore = os.path.join(fixture, "vmcore")
    with lzma.open(os.path.join(fixture, "vmcore.kdump.xz")) as f:
        dd = Diskdump(f.read())

    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])
    facts = {"fixture": fixture, "comms": {}, "log": None}

    size = prog.type("struct task_struct").member("comm").type.length
    for pid, name in COMMS.items():
        t = find_task(prog, pid)
        if not t:
            raise SystemExit(f"hostile_names.py: no pid {pid} in {vmcore}")
        assert len(name) < size
        patch_virt(dd, prog, t.comm.address_of_().value_(), name + bytes(size - len(name)))
        facts["comms"][str(pid)] = {"task": hex(t.value_()), "before": t.comm.string_().hex(),
                                    "after": name.hex()}

    # The printk ring's text blocks hold each record's text as it is: find the line there.
    ring = prog["prb"].text_data_ring
    base, length = ring.data.value_(), 1 << ring.size_bits.value_()
    text = prog.read(base, length)
    at = text.find(LOG_FROM)
    if at >= 0:
        assert len(LOG_TO) == len(LOG_FROM)
        patch_virt(dd, prog, base + at, LOG_TO)
        facts["log"] = {"before": LOG_FROM.hex(), "after": LOG_TO.hex()}

    recompress(dd, out, "hostile-names")
    with open(os.path.join(out, "hostile.json"), "w") as f:
        json.dump(facts, f, indent=1)
    print(f"hostile_names.py: {len(facts['comms'])} comms{' and a log line' if facts['log'] else ''} "
          f"written into {out}/hostile-names.vmcore")


if __name__ == "__main__":
    main()
