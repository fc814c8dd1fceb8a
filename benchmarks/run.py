"""Run every benchmark module in this folder (each prints its own table)."""

import pathlib
import runpy

HERE = pathlib.Path(__file__).parent


def main():
    for path in sorted(HERE.glob("*.py")):
        if path.name == "run.py" or path.name.startswith("_"):
            continue
        print(f"== {path.stem} ==")
        runpy.run_path(str(path), run_name="__main__")
        print()


if __name__ == "__main__":
    main()
