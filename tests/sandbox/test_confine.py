"""The Confinement (one description of what commands and file tools may reach) and the
bubblewrap mounts made from it."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from freehold.sandbox.bwrap import _mounts, git_protected
from freehold.sandbox.confine import Confinement, confinement_for


def mounts(args: list[str]) -> list[tuple[str, str]]:
    """bwrap mount options as (option, destination) pairs, in order."""
    out, i = [], 0
    while i < len(args):
        option = args[i]
        if option == "--tmpfs":
            out.append((option, args[i + 1]))
            i += 2
        else:  # --bind / --ro-bind SRC DEST
            out.append((option if args[i + 1] != "/dev/null" else "--hide-file", args[i + 2]))
            i += 3
    return out


def test_the_deepest_place_decides(tmp_path):
    home = tmp_path / "home"
    ws = home / "project"
    (home / ".pyenv").mkdir(parents=True)
    ws.mkdir()
    c = confinement_for(ws, home=home, private=(tmp_path / "fh",))
    assert c.view(home / ".bashrc") == "hidden"
    assert c.view(home / ".pyenv" / "bin" / "python") == "read-only"
    assert c.view(ws / "src" / "a.py") == "writable"
    assert c.view(Path("/usr/lib/os.py")) == "read-only"
    assert c.view(Path("/run/docker.sock")) == "hidden"
    assert c.view(tmp_path / "fh" / "audit" / "log.jsonl") == "hidden"
    assert c.hidden_by(home / ".ssh" / "id_rsa") == home / ".ssh"


def test_a_workspace_that_is_the_home_directory_still_hides_its_secrets(tmp_path):
    c = confinement_for(tmp_path, home=tmp_path)
    assert c.view(tmp_path / "notes.txt") == "writable"
    assert c.view(tmp_path / ".ssh" / "id_rsa") == "hidden"
    assert c.view(tmp_path / ".aws" / "credentials") == "hidden"


def test_a_secret_can_never_be_exposed(tmp_path):
    home = tmp_path / "home"
    c = confinement_for(tmp_path / "ws", home=home, expose=(home / ".ssh", home / ".config" / "gh", home / "tools"))
    assert c.view(home / ".ssh" / "id_rsa") == "hidden"
    assert c.view(home / ".config" / "gh" / "hosts.yml") == "hidden"
    assert c.view(home / "tools" / "bin") == "read-only"


def test_mounts_go_shallowest_first_and_hide_denied_files_in_the_workspace(tmp_path):
    home, ws = tmp_path / "home", tmp_path / "ws"
    (home / ".pyenv").mkdir(parents=True)
    (home / ".ssh").mkdir()
    (ws / "app").mkdir(parents=True)
    (ws / "app" / ".env").write_text("TOKEN=x\n")
    (ws / "keys").mkdir()
    (ws / "keys" / "server.pem").write_text("key\n")
    (ws / "link.pem").symlink_to(ws / "keys" / "server.pem")
    c = confinement_for(ws, home=home, deny_read=("**/.env", "**/*.pem"), deny_write=("docs/**",))
    (ws / "docs").mkdir()
    got = mounts(_mounts(c))
    order = [dest for _, dest in got]
    # The fake home is under /tmp, which is empty already: no mount of its own, nor for ~/.ssh.
    assert str(home) not in order and str(home / ".ssh") not in order
    assert ("--ro-bind", str(home / ".pyenv")) in got
    assert order.index("/tmp") < order.index(str(home / ".pyenv"))
    assert ("--bind", str(ws)) in got and ("--tmpfs", "/tmp") in got
    assert order.index("/tmp") < order.index(str(ws)) < order.index(str(ws / "app" / ".env"))
    assert ("--hide-file", str(ws / "app" / ".env")) in got and ("--hide-file", str(ws / "keys" / "server.pem")) in got
    assert str(ws / "link.pem") not in order  # a link is not followed; its target is hidden where it is
    assert ("--ro-bind", str(ws / "docs")) in got


def test_git_hooks_config_and_hooks_path_are_protected(tmp_path):
    git = tmp_path / ".git"
    git.mkdir()
    (git / "config").write_text("[core]\n\thooksPath = .husky\n")
    (git / "modules" / "sub").mkdir(parents=True)
    (tmp_path / ".husky").mkdir()
    protected = git_protected(tmp_path)
    assert (git / "hooks").is_dir() and (git / "modules" / "sub" / "hooks").is_dir()  # so none can be added
    assert set(protected) == {git / "hooks", git / "config", git / "modules" / "sub" / "hooks", tmp_path / ".husky"}
    got = mounts(_mounts(confinement_for(tmp_path, home=None)))
    assert ("--bind", str(git)) in got and ("--ro-bind", str(git / "hooks")) in got
    assert [d for _, d in got].index(str(git)) < [d for _, d in got].index(str(git / "config"))


def test_a_worktree_git_file_is_protected(tmp_path):
    (tmp_path / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")
    assert git_protected(tmp_path) == [tmp_path / ".git"]


def _age(root: Path, seconds: int = 3600) -> None:
    """Make every directory under `root` look unchanged for an hour, as in a settled repository."""
    old = os.stat(root).st_mtime - seconds
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(directory, (old, old))


def test_a_secret_that_appears_between_starts_is_hidden_at_the_next(tmp_path):
    ws = tmp_path / "ws"
    (ws / "a" / "b").mkdir(parents=True)
    _age(ws)
    c = confinement_for(ws, home=None, deny_read=("**/.env", "**/*.pem"))
    assert str(ws / "a" / "b" / ".env") not in _mounts(c)  # listed and remembered
    (ws / "a" / "b" / ".env").write_text("TOKEN=x\n")  # b's mtime moves
    assert ("--hide-file", str(ws / "a" / "b" / ".env")) in mounts(_mounts(c))
    (ws / "a" / "b" / ".env").rename(ws / "a" / "c.pem")
    got = mounts(_mounts(c))
    assert ("--hide-file", str(ws / "a" / "c.pem")) in got and str(ws / "a" / "b" / ".env") not in str(got)


def test_a_listing_made_just_after_a_change_is_not_trusted(tmp_path):
    # The racy case: a change in the same clock tick as the listing leaves the mtime as it was.
    ws = tmp_path / "ws"
    ws.mkdir()
    c = confinement_for(ws, home=None, deny_read=("**/.env",))
    _mounts(c)
    stamp = os.stat(ws).st_mtime_ns
    (ws / ".env").write_text("TOKEN=x\n")
    os.utime(ws, ns=(stamp, stamp))
    assert ("--hide-file", str(ws / ".env")) in mounts(_mounts(c))


def test_pinning_a_hidden_place_never_shows_a_hidden_parent(tmp_path):
    # Freehold run in ~: its user config (~/.config/freehold) is hidden inside the hidden ~/.config;
    # pinning the config's parents must not bind ~/.config back over its empty tmpfs.
    home = tmp_path / "home"
    (home / ".config" / "freehold").mkdir(parents=True)
    (home / ".local" / "share" / "freehold").mkdir(parents=True)
    c = confinement_for(home, home=home, private=(home / ".config" / "freehold", home / ".local" / "share" / "freehold"))
    got = mounts(_mounts(c))
    assert ("--tmpfs", str(home / ".config")) in got
    assert not [m for m in got if m[1] == str(home / ".config") and m[0] != "--tmpfs"]
    assert ("--bind", str(home / ".local")) in got and ("--bind", str(home / ".local" / "share")) in got


def _reference_view(confinement: Confinement, path: Path) -> str:
    """The view as first written, by walking `path.parents`: the fast string form must agree."""
    best = (0, 0, "read-only")
    for place, rank, view in confinement._places():
        if path == place or place in path.parents:
            best = max(best, (len(place.parts), rank, view))
    return best[2]


@given(st.lists(st.sampled_from(["home", "me", ".ssh", "ws", "ws2", ".pyenv", "tmp", "a", "b"]), max_size=6))
def test_the_string_prefix_view_agrees_with_walking_parents(parts: list[str]) -> None:
    confinement = confinement_for(Path("/home/me/ws"), home=Path("/home/me"), private=(Path("/home/me/ws/a"),),
                                  expose=(Path("/home/me/.pyenv"),))
    path = Path("/", *parts)
    assert confinement.view(path) == _reference_view(confinement, path)
    if confinement.view(path) == "hidden":
        assert confinement.hidden_by(path) is not None
