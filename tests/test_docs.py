"""The README and the reference pages say what the tree and the settings are.

Docs drift silently: a module moves and the map still names the old place, a setting is added and
nobody documents it. These tests read the docs and the code side by side, both ways round, so a
change to either that leaves the other behind fails here, naming what to fix.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
# Pages whose links and paths are checked: the README, the changelog and every reference page.
PAGES = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
BENCHMARKS_MAX_LINES = 150

_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_VARIABLE_IN_SETTINGS = re.compile(
    r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"|_load\(\s*env\.\w+,\s*\"([A-Z][A-Z0-9_]*)\""
)
_VARIABLE_IN_SHELL = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
_VARIABLE_IN_ENV_FILE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# Read by uvicorn itself from the environment of the web server (telsam_panel/web.py says so).
_VARIABLES_READ_BY_UVICORN = {"FORWARDED_ALLOW_IPS"}


@cache
def tracked_files() -> tuple[str, ...]:
    """The files git tracks: the tree as it is shipped, without caches, virtualenvs or databases."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return tuple(name for name in listing.decode().split("\0") if name and (ROOT / name).exists())


def section(text: str, heading: str) -> str:
    """The body of the `## heading` section of a Markdown text."""
    match = re.search(
        rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL
    )
    assert match, f"no '## {heading}' section"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The cells of every body row of the Markdown tables in `text` (headers and rules left out)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]

    def is_rule(line: str) -> bool:
        return "-" in line and set(line) <= set("|-: ")

    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for i, line in enumerate(lines)
        if not is_rule(line) and not (i + 1 < len(lines) and is_rule(lines[i + 1]))
    ]


def named_paths() -> list[str]:
    """The paths in the first column of the README's *What is where* table."""
    rows = table_rows(section(README.read_text(), "What is where"))
    return [path for row in rows for path in _CODE.findall(row[0])]


def is_named(directory: str, names: list[str]) -> bool:
    """Whether the map names `directory` itself or something inside it."""
    return any(name.rstrip("/") == directory or name.startswith(directory + "/") for name in names)


def test_every_path_the_readme_map_names_exists() -> None:
    missing = [path for path in named_paths() if not (ROOT / path).exists()]
    assert not missing, f"README's 'What is where' names paths that do not exist: {missing}"


def test_the_readme_map_names_every_package_and_top_level_entry() -> None:
    files = tracked_files()
    packages = {str(Path(name).parent) for name in files if name.endswith("/__init__.py")}
    top_level = {name.split("/")[0] for name in files if not name.startswith(".")}
    names = named_paths()
    missing = sorted(entry for entry in packages | top_level if not is_named(entry, names))
    assert not missing, f"README's 'What is where' leaves out: {missing}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    kept = "".join(char for char in text if char in " -_" or unicodedata.category(char)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in _HEADING.findall(_FENCE.sub("", page.read_text()))}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_link_of_a_page_leads_somewhere(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # another site's page
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    assert not broken, f"links leading nowhere: {broken}"


# The changelog is history: it may name files that were removed since.
@pytest.mark.parametrize(
    "page",
    [page for page in PAGES if page.name != "CHANGELOG.md"],
    ids=lambda page: page.relative_to(ROOT).as_posix(),
)
def test_every_path_a_page_quotes_exists(page: Path) -> None:
    folders = {name.split("/")[0] for name in tracked_files() if "/" in name}
    missing = []
    for quoted in _CODE.findall(_FENCE.sub("", page.read_text())):
        path = quoted.split("::")[0].rstrip(".,:;")
        if " " in path or "/" not in path or path.split("/")[0] not in folders:
            continue
        if not list(ROOT.glob(path)):
            missing.append(path)
    assert not missing, f"paths that do not exist: {missing}"


def test_no_tracked_file_speaks_of_its_own_making() -> None:
    # Words about how a change came about belong in commits, not in what ships.
    pattern = re.compile(r"\bissue\s*#?\d+|\bthe\s+brief\b", re.IGNORECASE)
    found = []
    for name in tracked_files():
        try:
            text = (ROOT / name).read_text()
        except UnicodeDecodeError:
            continue  # compiled catalogues, images
        found += [f"{name}: {match.group(0)}" for match in pattern.finditer(text)]
    assert not found, f"process words in tracked files: {found}"


def test_the_readme_starts_with_the_two_commands() -> None:
    first_block = _FENCE.search(README.read_text())
    assert first_block
    commands = [line.split("#")[0].strip() for line in first_block.group(0).splitlines()[1:-1]]
    assert commands == ["make demo", "make test"]


def test_the_benchmark_page_stays_short() -> None:
    lines = (ROOT / "docs" / "benchmarks.md").read_text().count("\n")
    assert lines <= BENCHMARKS_MAX_LINES, "current results only; the history goes to CHANGELOG.md"


def documented_variables(page: Path) -> set[str]:
    """The variables in the first column of a page's tables."""
    return {
        name
        for row in table_rows(page.read_text())
        for name in _CODE.findall(row[0])
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", name)
    }


def variables_the_code_reads() -> set[str]:
    settings = (ROOT / "telsam_panel" / "settings.py").read_text()
    read = {a or b for a, b in _VARIABLE_IN_SETTINGS.findall(settings)}
    for shell_file in ("docker-compose.yml", "scripts/demo"):
        read |= set(_VARIABLE_IN_SHELL.findall((ROOT / shell_file).read_text()))
    assert "FORWARDED_ALLOW_IPS" in (ROOT / "telsam_panel" / "web.py").read_text()
    return read | _VARIABLES_READ_BY_UVICORN


def test_the_configuration_reference_documents_every_variable_and_no_other() -> None:
    documented = documented_variables(CONFIGURATION)
    read = variables_the_code_reads()
    assert sorted(read - documented) == [], "read by the code, missing from configuration.md"
    assert sorted(documented - read) == [], "in configuration.md, read by no code"


def test_the_readme_and_env_example_name_only_documented_variables() -> None:
    documented = documented_variables(CONFIGURATION)
    in_readme = documented_variables(README)
    in_env_example = set(_VARIABLE_IN_ENV_FILE.findall((ROOT / ".env.example").read_text()))
    assert sorted(in_readme - documented) == []
    assert sorted(in_env_example - documented) == []
