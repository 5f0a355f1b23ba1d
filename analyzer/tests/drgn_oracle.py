#!/usr/bin/python3
"""The drgn side of the cross-checks: what drgn says about a vmcore, as JSON.

Usage: drgn_oracle.py VMCORE VMLINUX [MODULE.ko...]
Prints {"tasks": [{pid, comm, state, on_cpu, cpu, address, idle, frames: [names]}],
        "dmesg": text, "modules_loaded": bool}. Frame names are drgn's function name, or the symbol name
where drgn has no DWARF name for the frame, or "??"; a frame's "module" is
true when its pc lies outside the kernel image (_stext to _end).
"""
import json
import sys

import drgn
import drgn_compat
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_dmesg
from drgn.helpers.linux.sched import idle_task, task_state_to_char


def image_range(prog):
    """The kernel image's [_stext, _end), KASLR applied: anything else is module code."""
    return prog.symbol("_stext").address, prog.symbol("_end").address


def frame_names(prog, task, image):
    names = []
    try:
        trace = prog.stack_trace(task)
    except Exception as e:  # drgn cannot unwind this task
        return None, str(e)
    for frame in trace:
        name = frame.name
        if name is None:
            try:
                name = frame.symbol().name
            except LookupError:
                name = "??"
        try:
            pc = frame.pc
        except LookupError:
            pc = None
        names.append({"name": name, "inline": frame.is_inline, "pc": pc,
                      "module": pc is not None and not image[0] <= pc < image[1]})
    return names, None


def task_record(prog, task, idle, image):
    frames, error = frame_names(prog, task, image)
    return {
        "pid": task.pid.value_(),
        "comm": task.comm.string_().decode(errors="replace"),
        "state": task_state_to_char(task),
        "on_cpu": bool(task.on_cpu.value_()),
        "cpu": drgn.helpers.linux.sched.task_cpu(task),
        "address": hex(task.value_()),
        "idle": idle,
        "frames": frames,
        "unwind_error": error,
    }


def main():
    prog = drgn.Program()
    prog.set_core_dump(sys.argv[1])
    modules_loaded = drgn_compat.load_debug_info(prog, sys.argv[2:])
    image = image_range(prog)
    tasks = []
    seen = set()
    for cpu in for_each_online_cpu(prog):
        t = idle_task(prog, cpu)
        seen.add(t.value_())
        tasks.append(task_record(prog, t, True, image))
    for t in for_each_task(prog):
        if t.value_() in seen:
            continue
        tasks.append(task_record(prog, t, False, image))
    json.dump({"tasks": tasks, "dmesg": get_dmesg(prog).decode(errors="replace"),
               "modules_loaded": modules_loaded, "nr_threads": prog["nr_threads"].value_(),
               "online_cpus": len(list(for_each_online_cpu(prog)))}, sys.stdout)


main()
