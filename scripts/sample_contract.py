#!/usr/bin/env python3
"""Writes a small, valid multi-page contract PDF (A4, Helvetica text, classic xref) using only
the standard library, for the demo and the end-to-end tests: sample_contract.py OUT.pdf [PAGES]."""
import sys


def contract_pdf(pages: int) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        ("<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join("%d 0 R" % (4 + 2 * i) for i in range(pages)), pages)).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i in range(pages):
        objects.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
            ).encode()
        )
        lines = ["Purchase agreement - page %d of %d" % (i + 1, pages), ""]
        lines += ["Clause %d.%d  The parties agree to the terms set out here." % (i + 1, n) for n in range(1, 16)]
        text = "BT /F1 16 Tf 72 780 Td (%s) Tj /F1 11 Tf" % lines[0]
        for line in lines[1:]:
            text += " 0 -22 Td (%s) Tj" % line
        text += " ET"
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode()))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: sample_contract.py OUT.pdf [PAGES]")
    with open(sys.argv[1], "wb") as f:
        f.write(contract_pdf(int(sys.argv[2]) if len(sys.argv) == 3 else 2))
