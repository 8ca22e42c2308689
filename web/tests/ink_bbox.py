#!/usr/bin/env python3
"""Where a page's signature widgets put ink: ink_bbox.py SIGNED.pdf PAGE [X0 Y0 X1 Y1]

Renders the page as displayed (pdftoppm -cropbox, which also applies /Rotate) with and without its
annotations, and prints the bounding box of the pixels that differ, in points from the displayed
page's top-left, as JSON {"x", "y", "width", "height"} (null when nothing differs). With a
rectangle (points from the displayed page's top-left), only the pixels inside it count: one
widget's ink apart from another's on the same page (a stamp beside a cross-page strip)."""
import json, re, subprocess, sys, tempfile, os

DPI = 144


def pgm(path):
    data = open(path, "rb").read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():m.end() + w * h]


def render(pdf, page, out, hide):
    args = ["pdftoppm", "-cropbox", "-r", str(DPI), "-gray", "-f", page, "-l", page, "-singlefile"]
    if hide:
        args.append("-hide-annotations")
    subprocess.run(args + [pdf, out], check=True, capture_output=True)
    return pgm(out + ".pgm")


def main(pdf, page, clip=None):
    with tempfile.TemporaryDirectory() as d:
        w, h, a = render(pdf, page, os.path.join(d, "with"), False)
        w2, h2, b = render(pdf, page, os.path.join(d, "without"), True)
        assert (w, h) == (w2, h2)
        px = DPI / 72
        cx0, cy0, cx1, cy1 = (0, 0, w, h) if clip is None else (
            max(0, int(clip[0] * px)), max(0, int(clip[1] * px)), min(w, int(clip[2] * px + 0.999)), min(h, int(clip[3] * px + 0.999)))
        xs, ys = [], []
        for y in range(cy0, cy1):
            row = y * w
            ra, rb = a[row:row + w], b[row:row + w]
            if ra == rb:
                continue
            for x in range(cx0, cx1):
                if abs(ra[x] - rb[x]) > 24:
                    xs.append(x)
                    ys.append(y)
        if not xs:
            print("null")
            return
        k = 72 / DPI
        x0, x1, y0, y1 = min(xs), max(xs) + 1, min(ys), max(ys) + 1
        print(json.dumps({"x": x0 * k, "y": y0 * k, "width": (x1 - x0) * k, "height": (y1 - y0) * k, "page_width": w * k, "page_height": h * k}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [float(v) for v in sys.argv[3:7]] if len(sys.argv) >= 7 else None)
