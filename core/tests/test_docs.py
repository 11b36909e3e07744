"""The repository explains itself: the README's links resolve inside the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_and_docs_link_only_to_files_in_the_repository():
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = document.read_text(encoding="utf-8")
        assert "../shared" not in text, document
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            assert (document.parent / target).exists(), f"{document.name}: {target}"
