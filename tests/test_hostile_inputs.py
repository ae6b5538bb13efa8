"""Hostile and broken files: each one ends as a clear, typed error, quickly, without a crash.

The corpus is built by the tests themselves (nothing binary is committed for it).
"""

from __future__ import annotations

import contextlib
import io
import resource
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from PIL import Image

from core.errors import (
    BadDocumentError,
    CorruptDocumentError,
    EmptyFileError,
    EncryptedDocumentError,
    TooLargeError,
    UnsupportedFormatError,
)
from core.settings import Settings
from extractors.pages import load_pages, sniff
from storage.archive import archive_key, safe_name


def _pdf(pages: int = 1, text: str = "Invoice 42 Total 10.00 EUR from ACME GmbH, Berlin") -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, invariant=1)
    for _ in range(pages):
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _encrypted() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _declared_pages(count: int) -> bytes:
    """A tiny PDF whose page tree claims ``count`` pages (all pointing at one page object)."""
    kids = " ".join(["3 0 R"] * count)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _bomb_png() -> bytes:
    """A PNG that declares 60,000 × 60,000 pixels but is only a few KB."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def _zip_as_pdf() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


CASES = {
    "zero bytes": (b"", EmptyFileError),
    "truncated pdf": (_pdf()[:300], CorruptDocumentError),
    "corrupted pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 20, CorruptDocumentError),
    "encrypted pdf": (_encrypted(), EncryptedDocumentError),
    "10,000 pages declared": (_declared_pages(10_000), TooLargeError),
    "decompression bomb": (_bomb_png(), TooLargeError),
    "zip renamed .pdf": (_zip_as_pdf(), UnsupportedFormatError),
    "text renamed .pdf": (b"Dear customer,\nplease find attached...\n", UnsupportedFormatError),
    "truncated png": (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", CorruptDocumentError),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file_is_a_clear_typed_error(name: str, settings: Settings) -> None:
    data, expected = CASES[name]
    started = time.process_time()  # CPU, so that a busy machine does not fail it
    with pytest.raises(expected) as info:
        load_pages(data, "invoice.pdf", settings)
    assert time.process_time() - started < 10  # refused, not worked through
    assert len(info.value.message) > 10 and "\n" not in info.value.message
    assert isinstance(info.value, BadDocumentError)


def test_image_with_wrong_extension_is_read_by_content(settings: Settings) -> None:
    image = Image.new("L", (400, 200), 255)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    assert sniff(buf.getvalue(), "scan.pdf") == "image/png"
    pages = load_pages(buf.getvalue(), "scan.pdf", settings)
    assert len(pages) == 1 and pages[0].origin.value == "ocr"


def test_huge_file_is_refused_before_reading_it(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    small = settings.model_copy(update={"max_file_mb": 100})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TooLargeError, match="too large"):
        load_pages(path, "huge.pdf", small)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "a/b/../../../c.pdf",
        "..\\..\\windows\\system32.pdf",
        "facture-été-№5.pdf",
        "x" * 1000 + ".pdf",
        "name with spaces & $ymbols!.PDF",
        ".hidden.pdf",
    ],
)
def test_file_names_are_made_safe(key: str) -> None:
    name = safe_name(key)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name) <= 100 and name.isascii()
    assert archive_key("ab" * 32, key).startswith("ab/")


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=2048).map(lambda b: b"%PDF-1.4\n" + b),
        st.binary(max_size=2048).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
        st.binary(max_size=2048).map(lambda b: b"\xff\xd8\xff\xe0" + b),
        st.binary(max_size=2048).map(lambda b: b"II*\x00" + b),
    )
)
def test_fuzzed_bytes_never_crash_the_loader(data: bytes) -> None:
    settings = Settings(environment="test", workers=1)
    with contextlib.suppress(BadDocumentError):
        load_pages(data, "fuzz.bin", settings)


def test_a_fault_while_reading_sends_the_document_to_review(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: a bug in a stage costs neither the run nor the document."""
    import extractors.classify
    from core.models import Outcome
    from pipeline.analyse import DocInput, read_one

    def broken(pages: object) -> object:
        raise IndexError("list index out of range")

    monkeypatch.setattr(extractors.classify, "classify", broken)
    analysis = read_one(DocInput("f" * 64, _pdf(), "invoice.pdf"), settings)
    assert analysis.decision is not None and analysis.decision.outcome == Outcome.REVIEW
    [finding] = analysis.findings
    assert finding.code == "processing_error" and "IndexError" in finding.message
