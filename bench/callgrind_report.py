#!/usr/bin/env python3
"""Reads what bench/callgrind.sh wrote: instructions a request by function (each function's
own, not its callees'), heaviest first, and the allocations a request. Given a second case
(the base, usually `bare`), prints the difference: what this case costs on top of it.

    bench/callgrind_report.py target/callgrind/ram [target/callgrind/bare] [--top N]
"""
import collections
import re
import sys


def read(case_dir):
    """(own instructions by function, allocations) a request."""
    requests = int(open(f"{case_dir}/requests").read())
    names, own, allocs = {}, collections.Counter(), 0
    function = callee = None
    after_call = False

    def name(field):
        # callgrind writes a name once, then only its number: "(12) name", later "(12)".
        m = re.match(r"\((\d+)\)(?: (.*))?", field)
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), m.group(1))

    for line in open(f"{case_dir}/cg.out"):
        line = line.rstrip("\n")
        if line.startswith("fn="):
            function = name(line[3:])
        elif line.startswith("cfn="):
            callee = name(line[4:])
        elif line.startswith("calls="):
            after_call = True
            if callee == "__rustc::__rdl_alloc":
                allocs += int(line[6:].split()[0])
        elif line[:1].isdigit() or line[:1] in "+-*":
            fields = line.split()
            if len(fields) >= 2:
                # The line after a call carries the callee's cost, not this function's.
                if not after_call:
                    own[function] += int(fields[1])
                after_call = False
    return {f: n / requests for f, n in own.items()}, allocs / requests


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 40
    args = [a for a in args if not a.isdigit()]
    own, allocs = read(args[0])
    if len(args) > 1:
        base, base_allocs = read(args[1])
        print(f"{args[0]}: {sum(own.values()):.0f} instructions and {allocs:.1f} allocations "
              f"a request; {args[1]}: {sum(base.values()):.0f} and {base_allocs:.1f}")
        own = {f: own.get(f, 0) - base.get(f, 0) for f in set(own) | set(base)}
        print(f"difference: {sum(own.values()):.0f} instructions, by function:")
    else:
        print(f"{args[0]}: {sum(own.values()):.0f} instructions and {allocs:.1f} allocations a request")
    for function, n in sorted(own.items(), key=lambda kv: -abs(kv[1]))[:top]:
        print(f"{n:8.0f}  {function[:150]}")


main()
