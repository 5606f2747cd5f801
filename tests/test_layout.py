"""The layout's own rules: no import cycles among the source packages, and no source file a
newcomer cannot hold in their head (emulator/ and tests/fakes excepted, being stand-ins for whole
services); and the bot never imports the playground, the emulators or the tests."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "cogs", "model")
MAX_LINES = 400


def source_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_at_load(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports when it is loaded (function-level imports run
    later and cannot make a load-time cycle)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return (found & known) - {name}


def test_no_module_imports_in_a_cycle():
    files = source_files(*PACKAGES)
    known = {module_name(p) for p in files}
    graph = {module_name(p): imports_at_load(p, known) for p in files}
    cycles = []

    def visit(module: str, path: list[str], done: set[str]) -> None:
        for dependency in sorted(graph[module]):
            if dependency in path:
                cycles.append(path[path.index(dependency) :] + [dependency])
            elif dependency not in done:
                done.add(dependency)
                visit(dependency, [*path, dependency], done)

    for module in graph:
        visit(module, [module], {module})
    assert cycles == []


def test_the_bot_never_imports_the_playground_or_the_tests():
    """The playground starts the bot; the bot must run without it and without the fakes."""
    offenders = {}
    for path in source_files(*PACKAGES):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        bad = {n for n in names if n.split(".")[0] in ("playground", "emulator", "tests")}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_no_source_file_is_too_long_to_read():
    files = source_files(*PACKAGES, "benchmarks", "playground") + [ROOT / "main.py"]
    files += [p for p in source_files("tests") if "fakes" not in p.parts]
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in files
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
