"""What the oracle can read of each kernel: drgn 0.0.22 (Debian 12) and newer kernels.

drgn 0.0.22 finds no loaded modules on 6.4 and later (struct module has mem[],
not core_size): it raises MissingDebugInfoError after loading the vmlinux. On
those kernels the oracle still reads every kernel object (tasks, locks, memory)
but names nothing in module code; the checks that need module symbols say so
and use the scenario's truth.json instead.
"""
import sys

import drgn


def load_debug_info(prog, paths):
    """Load the vmlinux and modules; False when drgn could not find the loaded modules."""
    try:
        prog.load_debug_info(paths)
    except drgn.MissingDebugInfoError as e:
        if "kernel modules" not in str(e) or "vmlinux" in str(e).split("kernel modules")[0]:
            raise
        print("oracle: drgn cannot list this kernel's modules (struct module of 6.4+); "
              "module code and symbols are not checked by drgn", file=sys.stderr)
        return False
    return True
