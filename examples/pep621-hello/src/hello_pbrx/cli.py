import sys

from hello_pbrx import __version__


def main():
    if "--help" in sys.argv[1:]:
        print("usage: hello-pbrx [--help] [NAME]")
        return 0
    name = sys.argv[1] if len(sys.argv) > 1 else "world"
    print(f"hello, {name}, from hello-pbrx {__version__}")
    return 0


def info():
    print(f"hello-pbrx {__version__} on Python {sys.version.split()[0]}")
    return 0
