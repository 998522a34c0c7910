#!/usr/bin/env python3
"""Counts the crate's public API: what a user can name.

    cargo +nightly rustdoc --lib --all-features -- -Z unstable-options --output-format json
    scripts/public_items.py target/doc/actix_cherrypy.json

Walks rustdoc's JSON from the crate root through the public modules and re-exports (a
re-export counts as the item it names), counting each public item once: modules, re-exports, types, functions, constants, a struct's public fields, an
enum's variants and their fields, a trait's items, and the public methods and constants of inherent impls.
rustdoc leaves `#[doc(hidden)]` items out of its JSON, so they are not counted.
"""
import json
import sys


def main(path):
    doc = json.load(open(path))
    index = {str(k): v for k, v in doc["index"].items()}
    seen, counts = set(), {}

    def count(item_id):
        item = index.get(str(item_id))
        if item is None or item["id"] in seen or item.get("crate_id") != 0:
            return
        seen.add(item["id"])
        kind, inner = next(iter(item["inner"].items()))
        # Variants and a trait's items have no visibility of their own ("default").
        if item["visibility"] not in ("public", "default"):
            return
        if kind == "use":
            # A re-export counts as the item it names (once, wherever it is named from).
            seen.discard(item["id"])
            target = index.get(str(inner.get("id")))
            if target is None:
                counts["use"] = counts.get("use", 0) + 1
            elif inner.get("is_glob"):
                for child in target["inner"]["module"]["items"]:
                    count(child)
            else:
                count(target["id"])
            seen.add(item["id"])
            return
        if kind != "impl" and item["id"] != doc["root"]:
            counts[kind] = counts.get(kind, 0) + 1
        if kind == "module":
            for child in inner["items"]:
                count(child)
        elif kind in ("struct", "enum", "union"):
            shape = inner.get("kind", {}) if kind == "struct" else {}
            fields = shape.get("plain", {}).get("fields", []) + (shape.get("tuple") or [])
            for field in fields:
                if field is not None:
                    count(field)
            for variant in inner.get("variants", []):
                count(variant)
            for impl_id in inner.get("impls", []):
                impl = index.get(str(impl_id), {}).get("inner", {}).get("impl", {})
                if impl.get("trait") is None and not impl.get("is_synthetic"):
                    for child in impl.get("items", []):
                        count(child)
        elif kind == "variant":
            shape = inner.get("kind")
            shape = shape if isinstance(shape, dict) else {}  # "plain": a unit variant
            fields = (shape.get("struct") or {}).get("fields", []) + (shape.get("tuple") or [])
            for field in fields:
                if field is not None:
                    count(field)
        elif kind == "trait":
            for child in inner["items"]:
                count(child)

    count(doc["root"])
    for kind in sorted(counts):
        print(f"{kind:14} {counts[kind]:5}")
    print(f"{'total':14} {sum(counts.values()):5}")


if __name__ == "__main__":
    main(sys.argv[1])
