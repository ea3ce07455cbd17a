"""The sans-I/O tar index agrees with Python's `tarfile` and fails only with `TarReadError`.

`tarfile` is used here, in the test, to write archives in memory and to read them back as the
reference; the index itself only sees bytes through `ReadFile` effects.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from registry_proto import TarReadError, ValidationError
from registry_proto._tar import (
    BLOCK,
    END_OF_ARCHIVE,
    MemberKind,
    TarIndex,
    TarMember,
    file_header,
    index_tar,
    padding,
)
from registry_proto.testing import FakeRegistry, PureDriver
from tests.fixture_archives import fixture_archives

PATH = "archive.tar"
FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}


def index(data: bytes) -> TarIndex:
    driver = PureDriver(FakeRegistry().handle, files={PATH: data})
    return driver.run(index_tar(PATH))


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "file" | "dir" | "symlink" | "hardlink"
    data: bytes = b""
    target: str = ""  # the name a link points at


def build(entries: list[Entry], fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mtime = 1_700_000_000
            if entry.kind == "file":
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))
                continue
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                start = posixpath.dirname(_normal(entry.name)) or "."
                info.linkname = posixpath.relpath(_normal(entry.target), start)
            else:
                info.type = tarfile.LNKTYPE
                info.linkname = entry.target
            archive.addfile(info)
    return buffer.getvalue()


def _normal(name: str) -> str:
    return posixpath.normpath(name.lstrip("/"))


def reference_members(data: bytes) -> dict[str, TarMember]:
    """What `tarfile` reads: normalised name -> member, as the index should report it."""
    kinds = {
        tarfile.REGTYPE: MemberKind.FILE,
        tarfile.AREGTYPE: MemberKind.FILE,
        tarfile.CONTTYPE: MemberKind.FILE,
        tarfile.DIRTYPE: MemberKind.DIRECTORY,
        tarfile.SYMTYPE: MemberKind.SYMLINK,
        tarfile.LNKTYPE: MemberKind.HARDLINK,
    }
    members = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for info in archive.getmembers():
            name = _normal(info.name)
            if name == ".":
                continue
            kind = kinds.get(info.type, MemberKind.OTHER)
            size = info.size if kind is MemberKind.FILE else 0
            members[name] = TarMember(name, kind, info.offset_data, size, info.linkname)
    return members


def member_ends(data: bytes) -> set[int]:
    """Where each member's padded data ends: the places a cut leaves whole members only."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {
            info.offset_data + (info.size + BLOCK - 1) // BLOCK * BLOCK
            for info in archive.getmembers()
        }


def content_end(data: bytes) -> int:
    """Where the last member's padded data ends (the end-of-archive blocks follow)."""
    return max(member_ends(data))


def member_starts(data: bytes) -> list[int]:
    """Where each member's first header block begins (extended headers included)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return [info.offset for info in archive.getmembers()]


_SEGMENT = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,24}", fullmatch=True).filter(
    lambda s: s not in (".", "..")
)
_UNICODE_SEGMENT = st.text(
    st.characters(min_codepoint=0xA0, max_codepoint=0x2FF), min_size=1, max_size=8
)


@st.composite
def archives(draw: st.DrawFn, fmt: int | None = None) -> tuple[list[Entry], int]:
    if fmt is None:
        fmt = draw(st.sampled_from(list(FORMATS.values())))
    segments = _SEGMENT if fmt == tarfile.USTAR_FORMAT else _SEGMENT | _UNICODE_SEGMENT
    names = draw(
        st.lists(
            st.lists(segments, min_size=1, max_size=9).map("/".join),
            min_size=1,
            max_size=8,
            unique_by=lambda n: n,
        )
    )
    assume(not any(a.startswith(b + "/") for a in names for b in names))
    entries: list[Entry] = []
    files: list[str] = []
    for name in names:
        stored = draw(st.sampled_from(["", "./"])) + name
        choices = ["file", "dir"] + (["symlink", "hardlink"] if files else [])
        kind = draw(st.sampled_from(choices))
        if kind == "file":
            entries.append(Entry(stored, "file", draw(st.binary(max_size=1500))))
            files.append(stored)
        elif kind == "dir":
            entries.append(Entry(stored, "dir"))
        else:
            entries.append(Entry(stored, kind, target=draw(st.sampled_from(files))))
    return entries, fmt


def build_or_reject(entries: list[Entry], fmt: int) -> bytes:
    try:
        return build(entries, fmt)
    except ValueError:  # a name or link too long for ustar
        assume(False)
        raise


@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much])
@given(archives())
def test_index_agrees_with_tarfile(archive: tuple[list[Entry], int]) -> None:
    entries, fmt = archive
    data = build_or_reject(entries, fmt)
    result = index(data)
    assert result.path == PATH
    assert result.members == reference_members(data)
    for entry in entries:
        assert entry.name in result
        member = result.members[_normal(entry.name)]
        if entry.kind == "file":
            assert data[member.offset : member.offset + member.size] == entry.data
        if entry.kind in ("symlink", "hardlink"):
            target = result.members[_normal(entry.target)]
            assert result.resolve(entry.name) == target


def test_ustar_prefix_field_holds_long_names() -> None:
    name = "/".join(["p" * 50] * 3) + "/" + "n" * 90  # 243 characters
    data = build([Entry(name, "file", b"payload")], tarfile.USTAR_FORMAT)
    assert data[345:350] == b"ppppp"  # really stored in the prefix field
    member = index(data).resolve(name)
    assert data[member.offset : member.offset + member.size] == b"payload"


@pytest.mark.parametrize("fmt", ["gnu", "pax"])
def test_long_names_and_links(fmt: str) -> None:
    long_dir = "/".join(["d" * 40] * 4)  # 163 characters
    entries = [
        Entry(f"{long_dir}/layer.tar", "file", b"layer bytes"),
        Entry("./" + "l" * 120, "symlink", target=f"{long_dir}/layer.tar"),
        Entry("hard", "hardlink", target=f"{long_dir}/layer.tar"),
    ]
    data = build(entries, FORMATS[fmt])
    result = index(data)
    assert result.members == reference_members(data)
    member = result.resolve("l" * 120)
    assert data[member.offset : member.offset + member.size] == b"layer bytes"
    assert result.resolve("hard") == member
    assert result.resolve(f"./{long_dir}//layer.tar") == member


def test_non_ascii_names_in_pax() -> None:
    data = build([Entry("ünïcödé/файл.json", "file", b"{}")], tarfile.PAX_FORMAT)
    member = index(data).resolve("ünïcödé/файл.json")
    assert data[member.offset : member.offset + member.size] == b"{}"


def test_last_entry_of_a_name_wins() -> None:
    data = build([Entry("a", "file", b"old"), Entry("./a", "file", b"new!")], tarfile.PAX_FORMAT)
    member = index(data).resolve("a")
    assert data[member.offset : member.offset + member.size] == b"new!"


def test_resolve_follows_chains_of_links() -> None:
    data = build(
        [
            Entry("blobs/sha256/abc", "file", b"content"),
            Entry("one/layer.tar", "symlink", target="blobs/sha256/abc"),
            Entry("two/layer.tar", "symlink", target="one/layer.tar"),
            Entry("three", "hardlink", target="two/layer.tar"),
        ],
        tarfile.GNU_FORMAT,
    )
    result = index(data)
    assert result.resolve("three") == result.members["blobs/sha256/abc"]


def _raw_links(links: dict[str, str], files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in (files or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("links", "name", "message"),
    [
        ({"a": "b", "b": "a"}, "a", "too many levels"),
        ({"a": "missing"}, "a", "missing"),
        ({"a/l": "../../etc/passwd"}, "a/l", "unsafe"),
        ({"abs": "/etc/passwd"}, "abs", "missing"),
        ({}, "nothing", "missing"),
    ],
)
def test_resolve_failures(links: dict[str, str], name: str, message: str) -> None:
    result = index(_raw_links(links, {"x": b"1"}))
    with pytest.raises(TarReadError, match=message):
        result.resolve(name)


def test_resolve_refuses_directories() -> None:
    result = index(build([Entry("dir", "dir")], tarfile.USTAR_FORMAT))
    with pytest.raises(TarReadError, match="not a regular file"):
        result.resolve("dir")


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "./../evil", ".."])
@pytest.mark.parametrize("fmt", FORMATS)
def test_names_that_climb_out_are_refused(name: str, fmt: str) -> None:
    data = build([Entry("ok", "file", b"1"), Entry(name, "file", b"2")], FORMATS[fmt])
    with pytest.raises(TarReadError, match="unsafe"):
        index(data)


def test_absolute_names_are_made_relative() -> None:
    data = build([Entry("/etc/config.json", "file", b"{}")], tarfile.PAX_FORMAT)
    assert "etc/config.json" in index(data)


def test_missing_end_of_archive_blocks_are_tolerated() -> None:
    data = build([Entry("a", "file", b"x" * 700)], tarfile.USTAR_FORMAT)
    end = content_end(data)
    assert index(data[:end]).members == reference_members(data)


@settings(max_examples=100, suppress_health_check=[HealthCheck.filter_too_much])
@given(archives(), st.data())
def test_truncated_archives_raise_tar_read_error(
    archive: tuple[list[Entry], int], data: st.DataObject
) -> None:
    entries, fmt = archive
    full = build_or_reject(entries, fmt)
    end = content_end(full)
    cut = data.draw(st.integers(min_value=0, max_value=len(full) - 1), label="cut")
    if cut >= end:
        # Only end-of-archive blocks are missing: every member is still there.
        assert index(full[:cut]).members == reference_members(full)
    elif cut in member_starts(full)[1:]:
        # Cut just before a member's first header: a shorter archive, missing only its
        # end-of-archive blocks, which nothing can tell from a truncated one.
        assert index(full[:cut]).members == reference_members(full[:cut])
    else:
        with pytest.raises(TarReadError):
            index(full[:cut])


def test_empty_file() -> None:
    with pytest.raises(TarReadError, match="empty"):
        index(b"")


@settings(max_examples=200)
@given(st.binary(max_size=3 * BLOCK))
def test_garbage_raises_only_tar_read_error(garbage: bytes) -> None:
    try:
        result = index(garbage)
    except (TarReadError, ValidationError):
        return
    assert isinstance(result, TarIndex)  # zero blocks make a valid, empty archive


def _checksummed(header: bytearray) -> bytes:
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


@settings(max_examples=200)
@given(st.binary(min_size=BLOCK, max_size=BLOCK), st.binary(max_size=2 * BLOCK), st.data())
def test_headers_with_valid_checksums_but_garbage_fields(
    raw: bytes, rest: bytes, data: st.DataObject
) -> None:
    header = bytearray(raw)
    header[156:157] = data.draw(st.sampled_from([b"0", b"1", b"2", b"5", b"L", b"K", b"x", b"g"]))
    if data.draw(st.booleans()):
        header[124:136] = b"%011o\0" % data.draw(st.integers(0, 3 * BLOCK))
    if data.draw(st.booleans()):
        header[257:263] = b"ustar\0"
    try:
        result = index(_checksummed(header) + rest)
    except (TarReadError, ValidationError):
        return
    assert all(member.size >= 0 for member in result.members.values())


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _pax_archive(payload: bytes) -> bytes:
    """A raw PAX extended header holding `payload`, then a 3-byte member it applies to."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        extended = tarfile.TarInfo("PaxHeaders/member")
        extended.type = tarfile.XHDTYPE
        extended.size = len(payload)
        archive.addfile(extended, io.BytesIO(payload))
        info = tarfile.TarInfo("member")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"abc"))
    return buffer.getvalue()


@pytest.mark.parametrize("size", ["-1", "-1000", "-100000", "x", "", "1e3", " 3", "+3", "3_0"])
def test_corrupt_pax_size_is_refused(size: str) -> None:
    with pytest.raises(TarReadError, match="PAX"):
        index(_pax_archive(_pax_record("size", size)))


@pytest.mark.parametrize("payload", [b"x size=1\n", b"0 size=1\n", b"-5 a=b\n"])
def test_corrupt_pax_records_are_refused(payload: bytes) -> None:
    with pytest.raises(TarReadError, match="PAX"):
        index(_pax_archive(payload))


def test_pax_records_apply_to_the_next_member() -> None:
    payload = _pax_record("path", "renamed/member.json") + _pax_record("size", "3")
    data = _pax_archive(payload)
    member = index(data).resolve("renamed/member.json")
    assert data[member.offset : member.offset + member.size] == b"abc"


@pytest.mark.parametrize("path", fixture_archives("*.tar"), ids=lambda p: p.name)
def test_real_archives_agree_with_tarfile(path: Path) -> None:
    data = path.read_bytes()
    assert index(data).members == reference_members(data)


# -- writing -------------------------------------------------------------------------------------

_COMPONENT = st.text("abcdefghij0123456789", min_size=1, max_size=130)


def _written(members: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for name, data in members:
        out += file_header(name, len(data)) + data + bytes(padding(len(data)))
    return out + END_OF_ARCHIVE


@example([("a" * 101, b"x")])  # too long for the name field, and no `/` to split at
@example([("/".join(["c" * 60] * 5), b"")])  # too long for name and prefix together
@example([("blobs/sha512/" + "ab" * 64, b"sha512")])
@given(
    st.lists(
        st.tuples(
            st.lists(_COMPONENT, min_size=1, max_size=6).map("/".join), st.binary(max_size=40)
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda member: member[0],
    )
)
def test_written_members_read_back_whatever_the_length_of_their_names(
    members: list[tuple[str, bytes]],
) -> None:
    data = _written(members)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        read = [(m.name, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    assert read == members
    indexed = index(data)
    for name, content in members:
        member = indexed.members[name]
        assert data[member.offset : member.offset + member.size] == content


def test_a_sha512_blob_name_is_written_with_a_pax_header() -> None:
    name = "blobs/sha512/" + "ab" * 64
    header = file_header(name, 3)
    assert len(header) > BLOCK  # the name does not fit ustar's fields
    with tarfile.open(
        fileobj=io.BytesIO(header + b"abc" + bytes(padding(3)) + END_OF_ARCHIVE)
    ) as tar:
        assert tar.getnames() == [name]
