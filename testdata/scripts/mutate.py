#!/usr/bin/python3
"""Seeded mutations of a real vmcore, over every region of its file format.

Used by analyzer/tests/check_campaign.py; also a tool of its own, to make one
damaged copy again from its recipe:

  mutate.py elf VMCORE OUT              the kdump-compressed VMCORE as an ELF vmcore
  mutate.py list VMCORE VMLINUX FORMAT SEED N
                                        print N mutation recipes (JSON lines)
  mutate.py apply VMCORE RECIPE OUT     write the damaged copy a recipe describes
                                        (RECIPE: a JSON object, or @FILE)

FORMAT is kdump (the fixture as it is, zlib-compressed pages), lzo (the same
dump with LZO-compressed pages: makedumpfile -l from the fixture's
vmcore.kdump.xz) or elf (the same dump written as an ELF vmcore by
elf_from_kdump: one PT_NOTE with the dump's notes, one PT_LOAD per run of
dumped pages). Every region's offsets come from parsing the file: the
diskdump header, sub header, notes (the VMCOREINFO note line by line), the two
bitmaps, the page descriptors and the page data of a kdump file; the ELF
header, program headers, notes and page data of an ELF one.

A recipe is small and replays without the generator: a list of byte edits
(offset, hex bytes) and an optional length to cut the file at, with the region,
a description, and whether the damage is one kstall can see (`detect`: header
fields, bitmaps, page descriptors, zlib-compressed page data, a cut) or not
(page contents stored raw, register values, text fields of the headers).
Nothing here writes outside the path it is given.
"""
import json
import random
import struct
import sys
import zlib

PAGE = 4096
PD_SIZE = 24  # struct page_desc {off_t offset; u32 size, flags; u64 page_flags}
DUMP_DH_COMPRESSED_ZLIB, DUMP_DH_COMPRESSED_LZO = 1, 2

# struct disk_dump_header (makedumpfile's diskdump_mod.h), x86_64: name, offset, size, detect.
KDUMP_HEADER = [
    ("signature", 0, 8, True), ("header_version", 8, 4, True),
    ("utsname", 12, 390, False), ("timestamp", 408, 16, False),
    ("status", 0x1A8, 4, True), ("block_size", 0x1AC, 4, True), ("sub_hdr_size", 0x1B0, 4, True),
    ("bitmap_blocks", 0x1B4, 4, True), ("max_mapnr", 0x1B8, 4, True),
    ("total_ram_blocks", 0x1BC, 4, True), ("device_blocks", 0x1C0, 4, True),
    ("written_blocks", 0x1C4, 4, True), ("current_cpu", 0x1C8, 4, True), ("nr_cpus", 0x1CC, 4, True),
]
# struct kdump_sub_header, at block 1.
KDUMP_SUB = [
    ("phys_base", 0, 8, True), ("dump_level", 8, 4, True), ("split", 12, 4, True),
    ("start_pfn", 16, 8, True), ("end_pfn", 24, 8, True),
    ("offset_vmcoreinfo", 32, 8, True), ("size_vmcoreinfo", 40, 8, True),
    ("offset_note", 48, 8, True), ("size_note", 56, 8, True),
    ("offset_eraseinfo", 64, 8, True), ("size_eraseinfo", 72, 8, True),
    ("start_pfn_64", 80, 8, True), ("end_pfn_64", 88, 8, True), ("max_mapnr_64", 96, 8, True),
]
ELF_HEADER = [
    ("e_ident.magic", 0, 4), ("e_ident.class", 4, 1), ("e_ident.data", 5, 1), ("e_ident.version", 6, 1),
    ("e_type", 16, 2), ("e_machine", 18, 2), ("e_version", 20, 4), ("e_entry", 24, 8),
    ("e_phoff", 32, 8), ("e_shoff", 40, 8), ("e_flags", 48, 4), ("e_ehsize", 52, 2),
    ("e_phentsize", 54, 2), ("e_phnum", 56, 2), ("e_shentsize", 58, 2), ("e_shnum", 60, 2),
    ("e_shstrndx", 62, 2),
]
ELF_PHDR = [
    ("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8), ("p_vaddr", 16, 8),
    ("p_paddr", 24, 8), ("p_filesz", 32, 8), ("p_memsz", 40, 8), ("p_align", 48, 8),
]
PT_LOAD, PT_NOTE = 1, 4
# VMCOREINFO lines whose value is a plain fact of the crash, not a way into the dump.
VMCOREINFO_CONTENT = ("CRASHTIME",)


def le(d, off, n):
    return int.from_bytes(d[off:off + n], "little")


def parse_notes(d, start, size):
    """ELF notes in d[start:start+size]: (name, type, note offset, desc offset, desc size)."""
    notes, o, end = [], start, start + size
    while o + 12 <= end:
        namesz, descsz, ntype = struct.unpack_from("<III", d, o)
        name = bytes(d[o + 12:o + 12 + namesz]).rstrip(b"\0").decode("latin-1")
        desc = o + 12 + (namesz + 3 & ~3)
        notes.append((name, ntype, o, desc, descsz))
        o = desc + (descsz + 3 & ~3)
        if namesz == 0 and descsz == 0:
            break
    return notes


class Kdump:
    """Where each part of a kdump-compressed file lies (makedumpfile's layout)."""

    def __init__(self, d):
        if d[:8] != b"KDUMP   ":
            raise ValueError("not a kdump-compressed file")
        self.d = d
        self.size = len(d)
        self.block = le(d, 0x1AC, 4)
        sub_blocks = le(d, 0x1B0, 4)
        bitmap_blocks = le(d, 0x1B4, 4)
        self.sub = self.block
        s = self.sub
        self.off_vmcoreinfo, self.size_vmcoreinfo = le(d, s + 32, 8), le(d, s + 40, 8)
        self.off_note, self.size_note = le(d, s + 48, 8), le(d, s + 56, 8)
        self.bitmap_len = bitmap_blocks * self.block // 2
        self.bitmap1 = (1 + sub_blocks) * self.block
        self.bitmap2 = self.bitmap1 + self.bitmap_len
        self.pd_start = (1 + sub_blocks + bitmap_blocks) * self.block
        self.pfns = []  # dumped pfns, in page descriptor order
        bm = d[self.bitmap2:self.bitmap2 + self.bitmap_len]
        for i, byte in enumerate(bm):
            if byte:
                self.pfns.extend(i * 8 + j for j in range(8) if byte >> j & 1)
        self.rank = {pfn: i for i, pfn in enumerate(self.pfns)}
        self.pd_end = self.pd_start + PD_SIZE * len(self.pfns)
        self.notes = parse_notes(d, self.off_note, self.size_note)

    def pd(self, i):
        """(offset, size, flags, page_flags) of page descriptor i."""
        return struct.unpack_from("<qIIQ", self.d, self.pd_start + PD_SIZE * i)

    def page(self, i):
        """The uncompressed bytes of the page descriptor i describes."""
        off, size, flags, _ = self.pd(i)
        raw = self.d[off:off + size]
        if flags & DUMP_DH_COMPRESSED_ZLIB:
            return zlib.decompress(raw)
        if flags:
            raise ValueError(f"page descriptor {i}: compression {flags:#x} not handled here")
        return raw


def elf_from_kdump(d):
    """The dump as an ELF vmcore, as /proc/vmcore or makedumpfile -E lay one out: the
    notes in a PT_NOTE, each run of dumped pages a PT_LOAD (p_paddr, no p_vaddr:
    kstall walks the page tables), filtered pages absent."""
    k = Kdump(d)
    runs = []
    for pfn in k.pfns:
        if runs and runs[-1][1] == pfn:
            runs[-1][1] = pfn + 1
        else:
            runs.append([pfn, pfn + 1])
    phnum = 1 + len(runs)
    notes = bytes(d[k.off_note:k.off_note + k.size_note])
    note_off = 64 + 56 * phnum
    data_off = (note_off + len(notes) + PAGE - 1) // PAGE * PAGE
    out = bytearray(data_off)
    struct.pack_into("<4sBBBB8xHHIQQQIHHHHHH", out, 0, b"\x7fELF", 2, 1, 1, 0, 4, 62, 1, 0, 64, 0, 0,
                     64, 56, phnum, 0, 0, 0)
    struct.pack_into("<IIQQQQQQ", out, 64, PT_NOTE, 0, note_off, 0, 0, len(notes), len(notes), 0)
    out[note_off:note_off + len(notes)] = notes
    i = 0
    for n, (start, end) in enumerate(runs):
        size = (end - start) * PAGE
        struct.pack_into("<IIQQQQQQ", out, 64 + 56 * (n + 1), PT_LOAD, 7, len(out), 0, start * PAGE,
                         size, size, PAGE)
        for _ in range(start, end):
            page = k.page(i)
            if len(page) != PAGE:
                raise ValueError(f"page descriptor {i}: {len(page)} bytes")
            out += page
            i += 1
    return bytes(out)


class Elf:
    """Where each part of an ELF64 vmcore lies."""

    def __init__(self, d):
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise ValueError("not an ELF64 file")
        self.d = d
        self.size = len(d)
        self.phoff, self.phnum = le(d, 32, 8), le(d, 56, 2)
        self.phdrs = []  # (type, offset, vaddr, paddr, filesz, memsz)
        for i in range(self.phnum):
            t, _, off, va, pa, fsz, msz, _ = struct.unpack_from("<IIQQQQQQ", d, self.phoff + 56 * i)
            self.phdrs.append((t, off, va, pa, fsz, msz))
        self.notes = []
        for t, off, _, _, fsz, _ in self.phdrs:
            if t == PT_NOTE:
                self.notes += parse_notes(d, off, fsz)

    def load_of(self, pfn):
        """(phdr index, file offset of the page) of the PT_LOAD holding pfn, or None."""
        for i, (t, off, _, pa, fsz, _) in enumerate(self.phdrs):
            if t == PT_LOAD and pa <= pfn * PAGE < pa + fsz:
                return i, off + pfn * PAGE - pa
        return None


def hot_pfns(vmcore, vmlinux):
    """The pages kstall reads for every analysis: each task's task_struct and kernel
    stack, from drgn on the undamaged dump. Mutations aim there half the time, so
    that a damaged page is one that is read."""
    import drgn
    from drgn.helpers.linux.pid import for_each_task
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from damage import kvirt_to_phys
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])
    hot = set()
    for t in for_each_task(prog):
        for addr in (t.value_(), t.value_() + prog.type("struct task_struct").size - 1):
            hot.add(kvirt_to_phys(prog, addr) // PAGE)
        stack = t.stack.value_()
        for off in range(0, 4 * PAGE, PAGE):
            try:
                hot.add(kvirt_to_phys(prog, stack + off) // PAGE)
            except SystemExit:
                pass
    return sorted(hot)


def values_for(rng, old, n, fsize):
    """Nonsense for an n-byte little-endian field that held old."""
    top = (1 << 8 * n) - 1
    pick = [0, top, top >> 1, old + 1, old - 1, old * 2, old ^ 1 << rng.randrange(8 * n),
            rng.getrandbits(8 * n), fsize, fsize + PAGE, 4097, 0xFFFF, PAGE * 3 + 1]
    v = rng.choice(pick) & top
    return v if v != old else (old ^ 1 << rng.randrange(8 * n)) & top


class Generator:
    """Mutations of one base file (a fixture's vmcore in one format), from a seed."""

    def __init__(self, fmt, data, hot, seed, label):
        self.fmt, self.d, self.hot, self.label = fmt, data, hot, label
        self.seed = seed
        self.rng = random.Random(f"{label}:{fmt}:{seed}")
        self.n = 0
        self.k = Kdump(data) if fmt in ("kdump", "lzo") else None
        self.e = Elf(data) if fmt == "elf" else None
        self.notes = self.k.notes if self.k else self.e.notes

    def mut(self, region, what, detect, edits=(), cut=None):
        self.n += 1
        m = {"id": f"{self.label}:{self.fmt}:s{self.seed}:{self.n}", "format": self.fmt,
             "region": region, "what": what, "detect": detect,
             "edits": [[o, bytes(b).hex()] for o, b in edits]}
        if cut is not None:
            m["cut"] = cut
        return m

    def field(self, region, name, off, n, detect):
        old = le(self.d, off, n)
        if n > 8:  # a text or byte field: garble a few bytes of it
            at = off + self.rng.randrange(n)
            b = bytes(self.rng.randrange(256) for _ in range(min(4, off + n - at)))
            return self.mut(region, f"{name}: bytes at +{at - off} := {b.hex()}", detect, [(at, b)])
        v = values_for(self.rng, old, n, self.d and len(self.d))
        return self.mut(region, f"{name} {old:#x} -> {v:#x}", detect, [(off, v.to_bytes(n, "little"))])

    def pick_pfn(self, pfns):
        """A dumped pfn: one kstall reads half the time."""
        hot = [p for p in self.hot if p in pfns] if self.hot else []
        if hot and self.rng.random() < 0.5:
            return self.rng.choice(hot)
        return self.rng.choice(list(pfns))

    # --- regions shared by both formats

    def note(self):
        name, ntype, o, desc, descsz = self.rng.choice(self.notes)
        r = self.rng.random()
        if r < 0.25:  # the note header: namesz, descsz, type
            f, fo = self.rng.choice([("namesz", 0), ("descsz", 4), ("type", 8)])
            m = self.field("notes.header", f"note {name}/{ntype} at {o:#x} {f}", o + fo, 4, True)
            return m
        if name != "VMCOREINFO":  # the registers and pids of a CPU
            at = desc + self.rng.randrange(max(descsz, 1))
            b = bytes([self.rng.randrange(256)])
            return self.mut("notes.prstatus", f"note {name}/{ntype} desc +{at - desc} := {b.hex()}",
                            False, [(at, b)])
        text = bytes(self.d[desc:desc + descsz])
        lines, pos = [], 0
        for line in text.split(b"\n"):
            lines.append((pos, line))
            pos += len(line) + 1
        lines = [(p, ln) for p, ln in lines if b"=" in ln]
        p, line = self.rng.choice(lines)
        key, val = line.split(b"=", 1)
        detect = key.decode("latin-1") not in VMCOREINFO_CONTENT
        at = desc + p + len(key) + 1
        r = self.rng.random()
        if r < 0.4 and val:  # one character of the value changed
            i = self.rng.randrange(len(val))
            c = bytes([self.rng.choice(b"0123456789abcdefz-")])
            if c == val[i:i + 1]:
                c = b"x"
            return self.mut("notes.vmcoreinfo", f"VMCOREINFO {key.decode()}: char {i} of {val.decode()!r} := {c.decode()}",
                            detect, [(at + i, c)])
        if r < 0.7:  # the line's key lost ('=' made '_')
            return self.mut("notes.vmcoreinfo", f"VMCOREINFO {key.decode()}: '=' removed", detect,
                            [(at - 1, b"_")])
        # a NUL in the middle: the rest of VMCOREINFO gone for a C string reader
        return self.mut("notes.vmcoreinfo", f"VMCOREINFO NUL at the start of line {key.decode()}", True,
                        [(desc + p, b"\0")])

    def cut(self, points):
        off = self.rng.choice(points)
        return self.mut("truncate", f"cut at {off:#x} of {len(self.d):#x}", True, cut=off)

    # --- kdump-compressed

    def kdump_regions(self):
        k = self.k
        first_data = k.pd(0)[0]
        points = sorted({1, 7, 8, 100, 199, 0x1A8, 0x1C0, k.block, k.block + 60, k.off_note, k.off_note + 20,
                         k.off_note + k.size_note - 1, k.bitmap1, k.bitmap1 + k.bitmap_len // 2, k.bitmap2,
                         k.bitmap2 + 100, k.pd_start, k.pd_start + 12, (k.pd_start + k.pd_end) // 2,
                         k.pd_end, first_data + 10, k.size // 10, k.size // 4, k.size // 2, k.size * 3 // 4,
                         k.size * 9 // 10, k.size - 65536, k.size - PAGE, k.size - 1})
        return [
            (3, lambda: self.field("kdump.header", *self.rng.choice(KDUMP_HEADER))),
            (3, lambda: self.sub_field()),
            (3, self.note),
            (1, lambda: self.bitmap("bitmap1", k.bitmap1)),
            (2, lambda: self.bitmap("bitmap2", k.bitmap2)),
            (5, self.page_desc),
            (3, self.kdump_page_data),
            (3, lambda: self.cut(points if self.rng.random() < 0.7 else [self.rng.randrange(1, k.size)])),
        ]

    def sub_field(self):
        name, off, n, detect = self.rng.choice(KDUMP_SUB)
        return self.field("kdump.subheader", name, self.k.sub + off, n, detect)

    def bitmap(self, name, start):
        k = self.k
        r = self.rng.random()
        pfn = self.pick_pfn(k.pfns)
        at = start + pfn // 8
        old = self.d[at]
        if r < 0.5:
            b = old ^ 1 << pfn % 8
            return self.mut(f"kdump.{name}", f"{name}: bit of pfn {pfn:#x} flipped", True, [(at, bytes([b]))])
        if r < 0.7:
            at = start + self.rng.randrange(k.bitmap_len)
            return self.mut(f"kdump.{name}", f"{name}: byte {at - start:#x} := 0xff", True, [(at, b"\xff")])
        if r < 0.9:
            return self.mut(f"kdump.{name}", f"{name}: byte of pfn {pfn:#x} zeroed", True, [(at, b"\0")])
        at = start + (pfn // 8) // PAGE * PAGE
        n = min(PAGE, start + k.bitmap_len - at)
        return self.mut(f"kdump.{name}", f"{name}: block at {at - start:#x} zeroed", True, [(at, bytes(n))])

    def page_desc(self):
        k = self.k
        pfn = self.pick_pfn(k.rank)
        i = k.rank[pfn]
        off, size, flags, _ = k.pd(i)
        at = k.pd_start + PD_SIZE * i
        where = f"page descriptor {i} (pfn {pfn:#x}, offset {off:#x} size {size} flags {flags:#x})"
        f = self.rng.choice(["offset", "offset", "size", "size", "size", "flags", "flags", "page_flags"])
        if f == "offset":
            v = self.rng.choice([k.size, k.size + PAGE * 100, 0, off + 1, off - 1, k.pd_start,
                                 k.pd(self.rng.randrange(len(k.pfns)))[0], 1 << 62, -1])
            return self.mut("kdump.pd.offset", f"{where}: offset := {v:#x}", True, [(at, struct.pack("<q", v))])
        if f == "size":
            v = self.rng.choice([4097, 0, PAGE, size + 1, size - 1, 65536, 0xFFFFFFFF, 1])
            if v == size:
                v = 4097
            return self.mut("kdump.pd.size", f"{where}: size := {v}", True, [(at + 8, struct.pack("<I", v))])
        if f == "flags":
            v = self.rng.choice([0, 1, 2, 4, 0x20, 0x80, 0xFFFFFFFF, flags ^ 1])
            if v == flags:
                v = 0x80
            return self.mut("kdump.pd.flags", f"{where}: flags := {v:#x}", True, [(at + 12, struct.pack("<I", v))])
        v = self.rng.getrandbits(64)
        return self.mut("kdump.pd.page_flags", f"{where}: page_flags := {v:#x}", False,
                        [(at + 16, struct.pack("<Q", v))])

    def kdump_page_data(self):
        k = self.k
        pfn = self.pick_pfn(k.rank)
        i = k.rank[pfn]
        off, size, flags, _ = k.pd(i)
        # zlib checks its data (adler32); LZO does not, so damage there may decode to other bytes.
        zlib_page = flags & DUMP_DH_COMPRESSED_ZLIB
        region = ("kdump.data.zlib" if zlib_page else
                  "kdump.data.lzo" if flags & DUMP_DH_COMPRESSED_LZO else "kdump.data.raw")
        where = f"page data of pfn {pfn:#x} (descriptor {i}, {size} bytes at {off:#x}, flags {flags:#x})"
        r = self.rng.random()
        if r < 0.6:
            at = off + self.rng.randrange(size)
            b = bytes([self.d[at] ^ 1 << self.rng.randrange(8)])
            return self.mut(region, f"{where}: bit flipped at +{at - off}", bool(zlib_page), [(at, b)])
        if r < 0.8:
            n = min(8, size)
            at = off + self.rng.randrange(size - n + 1)
            b = bytes(self.rng.randrange(256) for _ in range(n))
            return self.mut(region, f"{where}: {n} bytes at +{at - off} := {b.hex()}", bool(zlib_page), [(at, b)])
        n = max(1, size // 4)
        return self.mut(region, f"{where}: last {n} bytes zeroed", bool(zlib_page), [(off + size - n, bytes(n))])

    # --- ELF

    def elf_regions(self):
        e = self.e
        note_off = next(o for t, o, *_ in e.phdrs if t == PT_NOTE)
        first_load = next(o for t, o, *_ in e.phdrs if t == PT_LOAD)
        points = sorted({1, 7, 16, 63, 64, 100, 199, 64 + 56, e.phoff + 56 * e.phnum - 1, note_off + 20,
                         note_off + 400, first_load, first_load + PAGE + 1, e.size // 10, e.size // 4,
                         e.size // 2, e.size * 3 // 4, e.size * 9 // 10, e.size - 65536, e.size - PAGE,
                         e.size - 1})
        return [
            (4, lambda: self.field("elf.header", *self.rng.choice(ELF_HEADER), True)),
            (6, self.elf_phdr),
            (3, self.note),
            (3, self.elf_page_data),
            (3, lambda: self.cut(points if self.rng.random() < 0.7 else [self.rng.randrange(1, e.size)])),
        ]

    def elf_phdr(self):
        e = self.e
        r = self.rng.random()
        if r < 0.25:
            i = next(i for i, p in enumerate(e.phdrs) if p[0] == PT_NOTE)
        elif r < 0.75:
            i = e.load_of(self.pick_pfn(set(self.hot_or_all())))
            i = i[0] if i else self.rng.randrange(e.phnum)
        else:
            i = self.rng.randrange(e.phnum)
        name, off, n = self.rng.choice(ELF_PHDR)
        return self.field("elf.phdr", f"phdr {i} {name}", e.phoff + 56 * i + off, n, True)

    def hot_or_all(self):
        pfns = set()
        for t, _, _, pa, fsz, _ in self.e.phdrs:
            if t == PT_LOAD:
                pfns.update(range(pa // PAGE, (pa + fsz) // PAGE))
        return pfns

    def elf_page_data(self):
        e = self.e
        pfn = self.pick_pfn(self.hot_or_all())
        _, off = e.load_of(pfn)
        r = self.rng.random()
        if r < 0.5:
            at = off + self.rng.randrange(PAGE)
            b = bytes([self.d[at] ^ 1 << self.rng.randrange(8)])
            return self.mut("elf.data.raw", f"page of pfn {pfn:#x} at {off:#x}: bit flipped at +{at - off}",
                            False, [(at, b)])
        at = off + self.rng.randrange(PAGE - 8)
        b = bytes(self.rng.randrange(256) for _ in range(8))
        return self.mut("elf.data.raw", f"page of pfn {pfn:#x} at {off:#x}: 8 bytes at +{at - off} := {b.hex()}",
                        False, [(at, b)])

    def generate(self, count):
        """count mutations, every region in turn first, then by weight."""
        regions = self.kdump_regions() if self.k else self.elf_regions()
        out = [make() for _, make in regions][:count]
        weights = [w for w, _ in regions]
        while len(out) < count:
            out.append(self.rng.choices(regions, weights)[0][1]())
        return out


def apply(data, m):
    """The damaged copy the recipe m describes."""
    d = bytearray(data)
    for off, hexbytes in m.get("edits", []):
        b = bytes.fromhex(hexbytes)
        d[off:off + len(b)] = b
    if m.get("cut") is not None:
        del d[m["cut"]:]
    return bytes(d)


def fixture_label(vmcore):
    """flavour/scenario of a fixture's vmcore path: part of every recipe id and seed."""
    return "/".join(vmcore.rstrip("/").split("/")[-3:-1])


def lzo_from_fixture(vmcore):
    """The fixture with LZO-compressed pages: makedumpfile -l on its uncompressed form
    (vmcore.kdump.xz beside it), at the dump level the fixture was saved with."""
    import lzma
    import os
    import subprocess
    import tempfile
    with open(vmcore, "rb") as f:
        level = le(f.read(PAGE + 16), PAGE + 8, 4)
    with tempfile.TemporaryDirectory() as tmp:
        plain, out = os.path.join(tmp, "plain"), os.path.join(tmp, "lzo")
        with lzma.open(vmcore + ".kdump.xz") as src, open(plain, "wb") as dst:
            while True:
                chunk = src.read(1 << 22)
                if not chunk:
                    break
                dst.write(chunk)
        subprocess.run(["makedumpfile", "--message-level", "4", "-l", "-d", str(level), plain, out],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            return f.read()


def base(vmcore, fmt):
    if fmt == "lzo":
        return lzo_from_fixture(vmcore)
    with open(vmcore, "rb") as f:
        d = f.read()
    return elf_from_kdump(d) if fmt == "elf" else d


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "elf" and len(sys.argv) == 4:
        with open(sys.argv[3], "wb") as f:
            f.write(base(sys.argv[2], "elf"))
    elif cmd == "list" and len(sys.argv) == 7:
        vmcore, vmlinux, fmt, seed, n = sys.argv[2:7]
        gen = Generator(fmt, base(vmcore, fmt), hot_pfns(vmcore, vmlinux), int(seed),
                        fixture_label(vmcore))
        for m in gen.generate(int(n)):
            print(json.dumps(m))
    elif cmd == "apply" and len(sys.argv) == 5:
        recipe = sys.argv[3]
        m = json.load(open(recipe[1:])) if recipe.startswith("@") else json.loads(recipe)
        with open(sys.argv[4], "wb") as f:
            f.write(apply(base(sys.argv[2], m["format"]), m))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
