"""A sans-I/O index of a tar archive: member names to byte ranges, without extracting.

The index flow reads headers through `read_file` effects and skips over member data, so a
multi-gigabyte image archive costs a few reads per member. It understands ustar, GNU long
names (`L`/`K`) and PAX extended headers (`x`), which is what docker, containerd, podman and
buildkit write (POSIX.1-2001 pax format, "ustar Interchange Format").
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import Enum

from ._effects import Flow, read_file
from ._errors import TarReadError

__all__ = [
    "END_OF_ARCHIVE",
    "MemberKind",
    "TarIndex",
    "TarMember",
    "file_header",
    "index_tar",
    "is_tar_header",
    "padding",
]

BLOCK = 512
_READ_AHEAD = 64 * 1024
_MAX_LINK_DEPTH = 16
_MAX_META_SIZE = 1024 * 1024


class MemberKind(Enum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class TarMember:
    """One archive member: its normalised name, and where its data lies in the tar file."""

    name: str
    kind: MemberKind
    offset: int
    size: int
    linkname: str = ""


@dataclass(frozen=True, slots=True)
class TarIndex:
    """The members of a tar file by normalised name (the last entry of a name wins)."""

    path: str
    members: dict[str, TarMember]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _normalise(name) in self.members

    def resolve(self, name: str) -> TarMember:
        """The regular file that `name` is or links to (symlinks and hard links followed)."""
        current = _normalise(name)
        for _ in range(_MAX_LINK_DEPTH):
            member = self.members.get(current)
            if member is None:
                raise TarReadError(f"archive member {name!r} is missing")
            if member.kind is MemberKind.FILE:
                return member
            if member.kind is MemberKind.SYMLINK:
                target = member.linkname
                if not target.startswith("/"):
                    target = posixpath.join(posixpath.dirname(current), target)
                current = _normalise(target)
            elif member.kind is MemberKind.HARDLINK:
                current = _normalise(member.linkname)
            else:
                raise TarReadError(f"archive member {name!r} is not a regular file")
        raise TarReadError(f"archive member {name!r}: too many levels of links")


def _normalise(name: str) -> str:
    """`./a//b/` -> `a/b`; names that climb out of the archive are refused."""
    stripped = name.lstrip("/")
    normal = posixpath.normpath(stripped) if stripped else ""
    if normal == "." or normal == "":
        return ""
    if normal == ".." or normal.startswith("../"):
        raise TarReadError(f"unsafe archive member name {name!r}")
    return normal


class _Reader:
    """Buffered reads of a file through `read_file` effects."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._start = 0
        self._buffer = b""

    def read(self, offset: int, length: int) -> Flow[bytes]:
        end = offset + length
        if not (self._start <= offset and end <= self._start + len(self._buffer)):
            self._buffer = yield from read_file(self.path, offset, max(length, _READ_AHEAD))
            self._start = offset
        return self._buffer[offset - self._start : end - self._start]


def _field_number(raw: bytes, what: str) -> int:
    if raw and raw[0] & 0x80:  # GNU base-256 for values that do not fit in octal
        value = int.from_bytes(raw[1:], "big")
        return -value if raw[0] & 0x40 else value
    text = raw.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarReadError(f"corrupt tar header: bad {what} field {raw!r}") from None


def _field_text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _sum_matches(header: bytes) -> bool:
    """The header's checksum field agrees with its bytes (signed or unsigned, as writers vary)."""
    stored = _field_number(header[148:156], "checksum")
    blanked = header[:148] + b" " * 8 + header[156:]
    unsigned = sum(blanked)
    signed = sum(b - 256 if b > 127 else b for b in blanked)
    return stored in (unsigned, signed)


def _check_sum(header: bytes, offset: int) -> None:
    if not _sum_matches(header):
        raise TarReadError(
            f"not a tar archive, or corrupt at byte {offset} (header checksum mismatch)"
        )


def is_tar_header(head: bytes) -> bool:
    """Whether `head`, the first bytes of a stream, begin a tar archive.

    That is a first block with a valid header checksum, or an empty archive's zero block
    (docker's empty layers are just the two end-of-archive blocks).
    """
    block = head[:BLOCK]
    if len(block) < BLOCK:
        return False
    if block == bytes(BLOCK):
        return True
    try:
        return _sum_matches(block)
    except TarReadError:  # a checksum field that is no number: not a tar header
        return False


def _parse_pax(data: bytes) -> dict[str, str]:
    """PAX records: `"%d %s=%s\n" % (length, keyword, value)`."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarReadError("corrupt PAX extended header") from None
        if length <= 0:
            raise TarReadError("corrupt PAX extended header")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


_KINDS = {
    b"0": MemberKind.FILE,
    b"\0": MemberKind.FILE,
    b"7": MemberKind.FILE,
    b"1": MemberKind.HARDLINK,
    b"2": MemberKind.SYMLINK,
    b"5": MemberKind.DIRECTORY,
}


def index_tar(path: str) -> Flow[TarIndex]:
    """Read every header of the tar file at `path`; return the index of its members."""
    reader = _Reader(path)
    members: dict[str, TarMember] = {}
    offset = 0
    long_name: str | None = None
    long_link: str | None = None
    pax: dict[str, str] = {}
    while True:
        header = yield from reader.read(offset, BLOCK)
        if len(header) == 0 and offset == 0:
            raise TarReadError(f"{path}: the file is empty")
        described = long_name is not None or long_link is not None or bool(pax)
        if described and (len(header) < BLOCK or header == bytes(BLOCK)):
            # A long name or an extended header describes the member that follows: none does.
            raise TarReadError(
                f"{path}: truncated archive (ends before the member at byte {offset})"
            )
        if len(header) < BLOCK:
            if header.strip(b"\0") or offset == 0:
                raise TarReadError(
                    f"{path}: truncated archive (ends inside a header at byte {offset})"
                )
            # Some writers stop without the two zero blocks, but the file must still reach
            # the end of the last member's padded data.
            if not header and not (yield from reader.read(offset - 1, 1)):
                raise TarReadError(f"{path}: truncated archive (ends before byte {offset})")
            break
        if header == bytes(BLOCK):
            break  # end-of-archive marker
        _check_sum(header, offset)
        size = _field_number(header[124:136], "size")
        if size < 0:
            raise TarReadError(f"corrupt tar header at byte {offset}: negative size")
        typeflag = header[156:157]
        data_offset = offset + BLOCK
        next_offset = data_offset + (size + BLOCK - 1) // BLOCK * BLOCK

        if typeflag in (b"L", b"K", b"x", b"g"):
            if size > _MAX_META_SIZE:
                raise TarReadError(f"corrupt tar header at byte {offset}: oversized metadata")
            data = yield from reader.read(data_offset, size)
            if len(data) < size:
                raise TarReadError(f"{path}: truncated archive (inside metadata at byte {offset})")
            if typeflag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typeflag == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typeflag == b"x":
                pax = _parse_pax(data)
            offset = next_offset
            continue

        name = _field_text(header[0:100])
        if header[257:262] == b"ustar":
            prefix = _field_text(header[345:500])
            if prefix:
                name = f"{prefix}/{name}"
        linkname = _field_text(header[157:257])
        name = pax.get("path", long_name or name)
        linkname = pax.get("linkpath", long_link or linkname)
        if "size" in pax:
            if not (pax["size"].isascii() and pax["size"].isdigit()):
                # `int()` would also take "-1000", which walks backwards through the file.
                raise TarReadError(f"corrupt PAX size {pax['size']!r} at byte {offset}")
            size = int(pax["size"])
            next_offset = data_offset + (size + BLOCK - 1) // BLOCK * BLOCK
        long_name = long_link = None
        pax = {}

        normal = _normalise(name)
        kind = _KINDS.get(typeflag, MemberKind.OTHER)
        if normal:
            members[normal] = TarMember(
                normal, kind, data_offset, size if kind is MemberKind.FILE else 0, linkname
            )
        offset = next_offset
    return TarIndex(path, members)


# -- writing ----------------------------------------------------------------------------------

END_OF_ARCHIVE = bytes(2 * BLOCK)


def padding(size: int) -> int:
    """Zero bytes that follow `size` bytes of member data up to the next block."""
    return -size % BLOCK


def _octal(value: int, width: int) -> bytes:
    digits = width - 1
    if value < 8**digits:
        return f"{value:0{digits}o}".encode() + b"\0"
    # GNU base-256, for members of 8 GiB and more.
    return bytes([0x80]) + value.to_bytes(width - 1, "big")


def file_header(name: str, size: int, *, mode: int = 0o644, mtime: int = 0) -> bytes:
    """The header blocks of a regular file (POSIX.1-2001 "pax Interchange Format").

    Names up to 100 bytes go in ustar's name field, longer ones are split at a `/` into its
    155-byte prefix; a name that fits neither way (a `blobs/sha512/<128 hex>` blob, say) is
    written in a pax extended header (`path=`) before a ustar header holding its first 100
    bytes, which readers replace by the extended one.
    """
    encoded = name.encode()
    if len(encoded) <= 100:
        return _ustar(encoded, b"", size, mode, mtime, b"0")
    cut = encoded.rfind(b"/", 0, 156)
    if cut > 0 and len(encoded) - cut - 1 <= 100:
        return _ustar(encoded[cut + 1 :], encoded[:cut], size, mode, mtime, b"0")
    records = _pax_record("path", encoded)
    extended = _ustar(b"././@PaxHeader", b"", len(records), 0o644, mtime, b"x")
    padded = records + bytes(padding(len(records)))
    return extended + padded + _ustar(encoded[:100], b"", size, mode, mtime, b"0")


def _pax_record(keyword: str, value: bytes) -> bytes:
    """`<length> <keyword>=<value>\n`, where the length counts the whole record, itself
    included (POSIX.1-2001 pax "extended header")."""
    body = f" {keyword}=".encode() + value + b"\n"
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _ustar(name: bytes, prefix: bytes, size: int, mode: int, mtime: int, kind: bytes) -> bytes:
    """One ustar header block (POSIX.1-1988 "ustar Interchange Format")."""
    header = bytearray(BLOCK)
    header[0 : len(name)] = name
    header[100:108] = _octal(mode, 8)
    header[108:116] = _octal(0, 8)
    header[116:124] = _octal(0, 8)
    header[124:136] = _octal(size, 12)
    header[136:148] = _octal(mtime, 12)
    header[148:156] = b" " * 8
    header[156:157] = kind
    header[257:263] = b"ustar\0"
    header[263:265] = b"00"
    header[345 : 345 + len(prefix)] = prefix
    checksum = sum(header)
    header[148:156] = f"{checksum:06o}".encode() + b"\0 "
    return bytes(header)
