"""The README's two set-up commands, as ``scripts/check_fresh_machine.py`` reads them: the test command installs the
system packages the tests need (``scripts/install_system_deps.sh``), and CI runs the same script."""
import subprocess
from pathlib import Path

from scripts.check_fresh_machine import readme_commands

REPO = Path(__file__).resolve().parents[1]


def test_readme_has_an_install_command_and_a_test_command_that_installs_the_system_packages():
    commands = readme_commands(REPO / "README.md")
    assert len(commands) == 2, commands
    install, tests = commands
    assert install.startswith('pip install -e ".[cpu]" && realtime-fer --video ../shared/data/'), install
    assert tests.startswith("bash scripts/install_system_deps.sh && pip install -e "), tests
    assert tests.endswith("python -m pytest -q"), tests


def test_ci_installs_the_system_packages_through_the_same_script():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/install_system_deps.sh" in ci
    assert "apt-get" not in ci, "the system packages belong in scripts/install_system_deps.sh"


def test_the_install_script_names_every_package_the_tests_need():
    script = REPO / "scripts" / "install_system_deps.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    for package in ("xvfb", "x11-apps", "chromium", "chromium-driver"):
        assert f"need+=({package})" in text, package


def test_readme_commands_reads_only_the_first_bash_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n```bash\n# one\npip install a\n\n  # two\npython -m pytest -q\n```\n```bash\nno\n```\n")
    assert readme_commands(readme) == ["pip install a", "python -m pytest -q"]
