import sys

import ffibridge
import pbrxdemo_colors


def api():
    if "--help" in sys.argv[1:]:
        print("usage: pbrx-service-api [--help]")
        return 0
    print(pbrxdemo_colors.paint(f"api ready, abs(-42) via libffi = {ffibridge.call_abs(-42)}"))
    return 0


def manage():
    import pbrxdemo_table

    if "--help" in sys.argv[1:]:
        print("usage: pbrx-service-manage [--help]")
        return 0
    print(pbrxdemo_table.row("manage", ffibridge.call_abs(-7)))
    return 0
