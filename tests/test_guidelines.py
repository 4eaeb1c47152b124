from chitieu.paths import REPO_ROOT


def test_project_guidelines_start_with_the_shared_guidelines_verbatim(shared):
    upstream = (shared / "ANNOTATION_GUIDELINES.md").read_text(encoding="utf-8")
    ours = (REPO_ROOT / "annotations" / "GUIDELINES.md").read_text(encoding="utf-8")
    assert ours.startswith(upstream), "annotations/GUIDELINES.md drifted from ../shared/ANNOTATION_GUIDELINES.md: copy it again"
    assert "# Project decisions" in ours[len(upstream):]
