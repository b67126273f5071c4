#!/usr/bin/env python3
"""Names of Vietnam's administrative units for `vnplan lm build`.

Usage: make_gazetteer.py UNITS.txt NAMES.txt WHEEL...

Each WHEEL is a `vietnam-provinces` wheel from PyPI (the General Statistics Office's list of
provinces, districts and communes, with their official spelling):
- 0.6.0: the units before the 2025 reorganisation (63 provinces, about 700 districts, 10,051
  communes), which the plans of 2021-2025 name;
- 2025.10.1: the units since 1 July 2025 (34 provinces, 3,321 communes, no districts).

UNITS.txt is corpus text (`--corpus`): one line per unit the way plans write it ("Xã Phúc Chu,
huyện Định Hóa, tỉnh Thái Nguyên."), one document with no blank line, so none of it is held out.
NAMES.txt is for `--names`: one name per line without its type ("Phúc Chu"). Both are sorted and
deduplicated: the output depends only on the wheels.
"""

import json
import sys
import zipfile


TYPES = ["Thành phố", "Tỉnh", "Quận", "Huyện", "Thị xã", "Thị trấn", "Phường", "Xã", "Đặc khu"]


def split_type(name):
    """("Xã", "Phúc Chu") for "Xã Phúc Chu"; ("", name) for a name without its type."""
    for t in TYPES:
        if name.startswith(t + " "):
            return t, " ".join(name[len(t) :].split())
    return "", name


def full_name(unit):
    """The name with its type in front ("Tỉnh Cao Bằng"; the 2025 list writes "Cao Bằng")."""
    name = unit["name"]
    if split_type(name)[0]:
        return name
    kind = {"thành phố trung ương": "thành phố"}.get(unit["division_type"], unit["division_type"])
    return f"{kind[:1].upper()}{kind[1:]} {name}"


def in_text(name):
    """The type word lowercased, as inside a sentence ("huyện Đại Từ")."""
    kind, rest = split_type(name)
    return f"{kind.lower()} {rest}" if kind else name


def load(wheel):
    with zipfile.ZipFile(wheel) as z:
        return json.loads(z.read("vietnam_provinces/data/nested-divisions.json"))


def lines_of(data):
    """Each unit as plans write it, with the units above it ("Xã Phúc Chu, huyện Định Hóa, tỉnh
    Thái Nguyên.")."""
    for province in data:
        p = full_name(province)
        yield f"{p}."
        for ward in province.get("wards", []):
            yield f"{full_name(ward)}, {in_text(p)}."
        for district in province.get("districts", []):
            d = full_name(district)
            yield f"{d}, {in_text(p)}."
            for ward in district.get("wards", []):
                yield f"{full_name(ward)}, {in_text(d)}, {in_text(p)}."


def names_of(data):
    """Each unit's name without its type ("Phúc Chu")."""
    for province in data:
        units = [province]
        units += province.get("wards", [])
        for district in province.get("districts", []):
            units.append(district)
            units += district.get("wards", [])
        for unit in units:
            yield split_type(full_name(unit))[1]


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for line in sorted(set(lines)):
            f.write(line + "\n")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    units, names, wheels = sys.argv[1], sys.argv[2], [load(w) for w in sys.argv[3:]]
    write(units, [line for data in wheels for line in lines_of(data)])
    write(names, [name for data in wheels for name in names_of(data)])


if __name__ == "__main__":
    main()
