"""Issue-to-file localization on SWE-bench Verified: how often `freehold.index.locate` ranks the
files the gold fix touches near the top, given only the issue text and the repository as it was.

    python benchmarks/localize.py --dataset ../shared/data/swebench-verified-loc.jsonl \\
        --repos /work/.mirror --releases /work/bench/releases --work /work/bench/work \\
        [--repo sympy ...] [--limit N] [--split even] [--top 10] [--json OUT] [--markdown OUT]

Dataset: JSON lines of {instance_id, repo, base_commit, problem_statement, patch}; `patch` is the
gold fix (test files already left out). The gold files are the paths in its `diff --git a/X b/X`
headers (for a new file, the path the fix creates).

Snapshots (nothing here talks to the network):
- Git, for repos whose history is at hand: `--repos DIR` holds bare mirrors as
  DIR/<owner>+<name>/repo (the layout of /work/.mirror; DIR/<owner>+<name> may also be the
  repository itself). Each repo gets one working clone, WORK/clones/<owner>+<name>
  (`git clone --shared --no-checkout`), whose refs and reflogs are then all deleted: only the
  detached HEAD is left, so nothing newer than the checked-out commit is reachable from a ref
  (the index reads history from HEAD). A repo's instances run in commit-date order, each after
  `git checkout -f -q --detach BASE && git clean -fdxq`; files a checkout leaves alone keep their
  mtimes, so after the first instance the index updates incrementally. Paths whose blobs the
  mirror lacks are left out of the checkout (sparse checkout).
- Releases, for repos with no history at hand (django, scikit-learn, matplotlib): `--releases DIR`
  (default REPOS/releases) holds unpacked sdists, one per X.Y release, each its own top directory
  (DIR/Django-4.2/, DIR/scikit-learn-1.3.0/, ...), which is the repository root, so paths match
  the gold patch's. Fetch them once, e.g. `pip download --no-binary :all: --no-deps Django==4.2`,
  then `tar -xzf Django-4.2.tar.gz -C DIR`; keep DIR outside any git work tree. A release has no
  history, so co-change evidence is unavailable there.

Which release an instance runs against is chosen from its gold patch, as base-commit dates are
not available offline (the patch is used for nothing else, never for ranking). In order:
1. clean: of the releases the whole patch applies to (`git apply --check -p1`), the newest:
   releases made after the fix contain it, and older ones are further from the base commit.
2. before-fix code: else, among the releases holding every file the patch edits (all of them if
   none does), the patch is cut into change groups (a run of removed and added lines with a line
   of context either side, whitespace stripped); a group speaks for a release when its text
   before the fix occurs there verbatim and its text after the fix does not, and against it when
   the reverse holds. Of the releases with more for than against: the one with the most for,
   newest on ties.
3. release before the fix: else, if some of those releases have more against (the fix is in),
   the one before the oldest of them (or that oldest, if it comes first).
4. neighbour: else the release of the instance of the same repo nearest in number (issue and
   pull-request numbers grow with time) matched by rules 1-3.
Rules 2-4 mark the instance approximate. Matches are cached in `--release-map` (default: the
releases directory's name plus .json, beside it), made for every instance of the repo in the
dataset, whatever the selection.

For every instance: `Index.open(root, home=WORK/index-home)` (kept open while the root stays the
same), `index.update()`, timed (the first update of a root in a run is reported apart from the
later, incremental ones), then `locate(index, problem_statement, top)`, timed. Indexes persist in
WORK/index-home between runs; `--cold` deletes it first. An instance counts at k only if all its
gold files are in the top k ("any": at least one). Everything runs in one process, so the peak
RSS reported (ru_maxrss) covers indexing and ranking of every instance. An instance that fails
is logged in one line and skipped. `--split even|odd` keeps the instances at even or odd
positions in the dataset file, to tune on one half and check on the other.
"""
from __future__ import annotations

import argparse
import glob
import importlib
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

KS = (1, 5, 10)
HIT_KEYS = [f"{kind}@{k}" for kind in ("strict", "any") for k in KS]
MATCH_METHOD = 2  # bump when the release-matching rules change, so cached matches are made again

LEGEND = """\
Acc@k: all gold files in the top k; any@k: at least one. approx: run against a release the gold patch
does not apply to cleanly. gold absent: a gold file is not in the snapshot (the fix creates it, or the
release sdist lacks it), so the instance cannot count under Acc@k."""

ANCHORS = """\
Reference points (file-level Acc@5, SWE-bench Lite / Verified):
- BM25 over the repository: 48.3% / 36.2%
- graph-based candidate sets: 66.7-72.0% / 54.8-68.8%
- one 7B rerank call over candidates: 80.0% / 77.0%"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Dataset


@dataclass(frozen=True)
class Instance:
    position: int  # line index in the dataset file
    instance_id: str
    repo: str  # owner/name
    base_commit: str
    problem_statement: str
    patch: str

    @property
    def gold(self) -> list[str]:
        return gold_files(self.patch)


DIFF_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)$", re.MULTILINE)


def gold_files(patch: str) -> list[str]:
    """The files a unified diff touches, in order, each once (the a/ path)."""
    seen: dict[str, None] = {}
    for before, _after in DIFF_HEADER.findall(patch):
        seen.setdefault(before, None)
    return list(seen)


def read_dataset(path: Path) -> list[Instance]:
    instances = []
    with path.open() as lines:
        for position, line in enumerate(lines):
            if line.strip():
                row = json.loads(line)
                instances.append(Instance(position, row["instance_id"], row["repo"], row["base_commit"],
                                          row["problem_statement"], row["patch"]))
    return instances


def select(instances: list[Instance], repos: list[str], split: str, limit: int | None) -> list[Instance]:
    """The instances of the named repos (owner/name or name; all if none), of one half of the file
    (even or odd positions), at most `limit` per repo."""
    wanted = {r.lower() for r in repos}
    kept: list[Instance] = []
    per_repo: dict[str, int] = defaultdict(int)
    for inst in instances:
        if wanted and not wanted & {inst.repo.lower(), inst.repo.split("/")[1].lower()}:
            continue
        if split == "even" and inst.position % 2 or split == "odd" and not inst.position % 2:
            continue
        per_repo[inst.repo] += 1
        if limit is None or per_repo[inst.repo] <= limit:
            kept.append(inst)
    return kept


# ---------------------------------------------------------------------------------------------
# Release matching (for repos we only have release sdists of)


@dataclass(frozen=True)
class Release:
    name: str  # directory name, e.g. Django-4.2
    version: tuple[int, ...]
    path: Path


def parse_version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def find_releases(releases_dir: Path | None, repo: str) -> list[Release]:
    """Unpacked release directories of `repo` (named <name>-<version>), oldest first."""
    if releases_dir is None or not releases_dir.is_dir():
        return []
    name = repo.split("/")[1].lower()
    found = []
    for entry in releases_dir.iterdir():
        prefix, _, version_text = entry.name.rpartition("-")
        version = parse_version(version_text)
        if entry.is_dir() and prefix.lower() == name and version is not None:
            found.append(Release(entry.name, version, entry))
    return sorted(found, key=lambda r: r.version)


def applies(patch: str, tree: Path) -> bool:
    """Whether `git apply --check -p1` accepts the patch in `tree` (a plain directory)."""
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tree.resolve().parent))
    done = subprocess.run(["git", "apply", "--check", "-p1", "-"], cwd=tree, input=patch.encode(),
                          env=env, capture_output=True, check=False)
    return done.returncode == 0


def edited_files(patch: str) -> list[str]:
    """The files a patch changes that exist before it (not the ones it creates)."""
    sections = re.split(r"^(?=diff --git )", patch, flags=re.MULTILINE)
    return [header.group(1) for section in sections if (header := DIFF_HEADER.match(section))
            and not re.search(r"^(new file mode|--- /dev/null)", section, flags=re.MULTILINE)]


@dataclass(frozen=True)
class ChangeGroup:
    """One run of removed/added lines with a line of context either side, stripped, blanks left out."""
    path: str
    before: tuple[str, ...]  # context + removed + context
    after: tuple[str, ...]  # context + added + context


def _stripped(lines: list[str]) -> tuple[str, ...]:
    return tuple(line.strip() for line in lines if line.strip())


def change_groups(patch: str) -> list[ChangeGroup]:
    groups = []
    for section in re.split(r"^(?=diff --git )", patch, flags=re.MULTILINE):
        header = DIFF_HEADER.match(section)
        if not header:
            continue
        for hunk in re.split(r"^(?=@@ )", section, flags=re.MULTILINE)[1:]:
            body = [line for line in hunk.splitlines()[1:] if line[:1] in (" ", "-", "+")]
            start = 0
            while start < len(body):
                if body[start][0] == " ":
                    start += 1
                    continue
                end = start
                while end < len(body) and body[end][0] != " ":
                    end += 1
                above = [body[start - 1][1:]] if start else []
                below = [body[end][1:]] if end < len(body) else []
                removed = [line[1:] for line in body[start:end] if line[0] == "-"]
                added = [line[1:] for line in body[start:end] if line[0] == "+"]
                groups.append(ChangeGroup(header.group(1), _stripped(above + removed + below),
                                          _stripped(above + added + below)))
                start = end
    return groups


def _contains(lines: tuple[str, ...], block: tuple[str, ...]) -> bool:
    size = len(block)
    return bool(block) and any(lines[i:i + size] == block for i, line in enumerate(lines) if line == block[0])


def evidence(groups: list[ChangeGroup], tree: Path) -> tuple[int, int]:
    """(groups whose code before the fix is in `tree` but not after it, groups with the reverse)."""
    before = after = 0
    for group in groups:
        try:
            lines = _stripped((tree / group.path).read_text(errors="replace").splitlines())
        except OSError:
            continue
        has_before, has_after = _contains(lines, group.before), _contains(lines, group.after)
        before += has_before and not has_after
        after += has_after and not has_before
    return before, after


def match_release(inst: Instance, releases: list[Release]) -> dict:
    """Rules 1-3 of the module docstring; "release" is None when there is no evidence (rule 4 then)."""
    clean = [r.name for r in releases if applies(inst.patch, r.path)]
    if clean:
        return {"release": clean[-1], "rule": "clean", "clean": True, "clean_releases": clean}
    edited = edited_files(inst.patch)
    holding = [r for r in releases if all((r.path / path).is_file() for path in edited)] or releases
    groups = change_groups(inst.patch)
    counts = [evidence(groups, r.path) for r in holding]
    match = {"release": None, "rule": "none", "clean": False,
             "evidence": {r.name: list(c) for r, c in zip(holding, counts, strict=True)}}
    unfixed = [i for i, (before, after) in enumerate(counts) if before > after]
    fixed = [i for i, (before, after) in enumerate(counts) if after > before]
    if unfixed:
        best = max(unfixed, key=lambda i: (counts[i][0], i))
        match.update(release=holding[best].name, rule="before-fix code")
    elif fixed:
        match.update(release=holding[max(fixed[0] - 1, 0)].name, rule="release before the fix")
    return match


def instance_number(instance_id: str) -> int:
    tail = instance_id.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


def fill_by_neighbour(matches: dict[str, dict], instances: list[Instance]) -> None:
    """Rule 4: an instance with no evidence takes the release of the instance of its repo nearest
    in number (issue and pull-request numbers grow with time) that was matched by rules 1-3."""
    for inst in instances:
        match = matches.get(inst.instance_id)
        if match is None or match["rule"] not in ("none", "neighbour"):
            continue
        number = instance_number(inst.instance_id)
        matched = [instance_number(i.instance_id) for i in instances if i.repo == inst.repo
                   and matches.get(i.instance_id, {}).get("rule") not in (None, "none", "neighbour")]
        by_number = {instance_number(i.instance_id): i.instance_id for i in instances if i.repo == inst.repo}
        if not matched:
            match.update(release=None, rule="none")
            continue
        near = by_number[min(matched, key=lambda n: (abs(n - number), n))]
        match.update(release=matches[near]["release"], rule="neighbour", neighbour=near)


def load_release_map(instances: list[Instance], releases_dir: Path | None, cache: Path) -> dict[str, dict]:
    """instance_id -> match for the instances of repos with release sources; matches made against
    the same set of releases are read from `cache`, the rest are made and the cache rewritten."""
    matches = json.loads(cache.read_text()) if cache.is_file() else {}
    before = json.dumps(matches, sort_keys=True)
    for inst in instances:
        releases = find_releases(releases_dir, inst.repo)
        names = [r.name for r in releases]
        known = matches.get(inst.instance_id, {})
        if not releases or (known.get("candidates"), known.get("method")) == (names, MATCH_METHOD):
            continue
        try:
            matches[inst.instance_id] = {**match_release(inst, releases), "candidates": names,
                                         "method": MATCH_METHOD}
        except OSError as exc:
            log(f"{inst.instance_id}: release matching failed: {exc}")
    fill_by_neighbour(matches, instances)
    if json.dumps(matches, sort_keys=True) != before:
        cache.write_text(json.dumps(matches, indent=1, sort_keys=True) + "\n")
    return matches


# ---------------------------------------------------------------------------------------------
# Snapshots: a repository root as it was for one instance


class SkipInstance(Exception):
    """This instance cannot be run; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    root: Path
    label: str  # commit or release name
    match_rule: str = "git"  # for a release: the rule that chose it (see the module docstring)

    @property
    def approximate(self) -> bool:
        return self.match_rule not in ("git", "clean")


def git(*args: str, cwd: Path | None = None, stdin: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise SkipInstance(f"git {args[0]} failed: {reason}")
    return done.stdout


def find_mirror(repos_dir: Path | None, repo: str) -> Path | None:
    if repos_dir is None:
        return None
    owner, name = repo.split("/")
    for candidate in (repos_dir / f"{owner}+{name}" / "repo", repos_dir / f"{owner}+{name}",
                      repos_dir / name):
        if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
            return candidate
    return None


class GitSource:
    def __init__(self, mirror: Path, clone: Path):
        self.mirror, self.clone = mirror, clone
        self.absent: set[str] = set()  # paths whose blobs the mirror lacks, kept out of checkouts

    def prepare(self) -> None:
        if not (self.clone / ".git").is_dir():
            shutil.rmtree(self.clone, ignore_errors=True)
            self.clone.parent.mkdir(parents=True, exist_ok=True)
            git("clone", "-q", "--shared", "--no-checkout", str(self.mirror), str(self.clone))
        git("config", "gc.auto", "0", cwd=self.clone)
        git("config", "core.logAllRefUpdates", "false", cwd=self.clone)
        refs = git("for-each-ref", "--format=delete %(refname)", cwd=self.clone)
        if refs:
            git("update-ref", "--no-deref", "--stdin", cwd=self.clone, stdin=refs)
        shutil.rmtree(self.clone / ".git" / "logs", ignore_errors=True)  # reflogs name earlier checkouts

    def order(self, instances: list[Instance]) -> list[Instance]:
        def commit_time(inst: Instance) -> float:
            try:
                return float(git("show", "-s", "--format=%ct", inst.base_commit, cwd=self.clone))
            except (SkipInstance, ValueError):
                return float("inf")
        return sorted(instances, key=lambda i: (commit_time(i), i.position))

    def checkout(self, inst: Instance) -> Snapshot:
        try:
            git("cat-file", "-e", f"{inst.base_commit}^{{commit}}", cwd=self.clone)
        except SkipInstance:
            raise SkipInstance(f"base commit {inst.base_commit} is not in the mirror") from None
        try:
            git("checkout", "-f", "-q", "--detach", inst.base_commit, cwd=self.clone)
        except SkipInstance:
            if not self._leave_out_absent_blobs(inst.base_commit):
                raise
            git("checkout", "-f", "-q", "--detach", inst.base_commit, cwd=self.clone)
        git("clean", "-fdxq", cwd=self.clone)
        return Snapshot(self.clone, inst.base_commit[:12])

    def _leave_out_absent_blobs(self, commit: str) -> bool:
        """Some mirrors lack the blobs of a few large files; a sparse checkout leaves those paths
        out. Returns whether there were new ones to leave out."""
        entries = [line.split("\t", 1) for line in git("ls-tree", "-r", commit, cwd=self.clone).splitlines()]
        blobs = [(meta.split()[2], path) for meta, path in entries if meta.split()[1] == "blob"]
        checked = git("cat-file", "--batch-check", cwd=self.clone,
                      stdin="".join(f"{sha}\n" for sha, _ in blobs)).splitlines()
        absent = {path for (_, path), line in zip(blobs, checked, strict=True)
                  if line.endswith(" missing")} - self.absent
        if not absent:
            return False
        self.absent |= absent
        log(f"{self.clone.name}: left out of checkouts, blobs absent from the mirror: {sorted(absent)}")
        patterns = "/*\n" + "".join(f"!/{glob.escape(path)}\n" for path in sorted(self.absent))
        (self.clone / ".git" / "info").mkdir(exist_ok=True)
        (self.clone / ".git" / "info" / "sparse-checkout").write_text(patterns)
        git("config", "core.sparseCheckout", "true", cwd=self.clone)
        return True


class ReleaseSource:
    def __init__(self, releases: list[Release], matches: dict[str, dict]):
        self.releases = {r.name: r for r in releases}
        self.matches = matches

    def prepare(self) -> None:
        for release in self.releases.values():
            outer = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=release.path,
                                   capture_output=True, text=True, check=False)
            if outer.returncode == 0:
                log(f"warning: {release.path} lies in the git work tree {outer.stdout.strip()}, "
                    "whose history the index may read")

    def _release(self, inst: Instance) -> Release | None:
        return self.releases.get(self.matches.get(inst.instance_id, {}).get("release"))

    def order(self, instances: list[Instance]) -> list[Instance]:
        def version(inst: Instance) -> tuple[int, ...]:
            release = self._release(inst)
            return release.version if release else ()
        return sorted(instances, key=lambda i: (version(i), i.position))

    def checkout(self, inst: Instance) -> Snapshot:
        release = self._release(inst)
        if release is None:
            raise SkipInstance("no release matched")
        return Snapshot(release.path, release.name, self.matches[inst.instance_id]["rule"])


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class Outcome:
    instance_id: str
    repo: str
    snapshot: str
    match_rule: str  # "git", or how the release was chosen: "clean", "before-fix code", ...
    approximate: bool
    gold: list[str]
    top: list[dict]  # [{"path", "score"}]
    ranks: dict[str, int | None]  # gold file -> 1-based rank in top, or None
    gold_absent: list[str]  # gold files not in the snapshot (the fix creates them, or the sdist lacks them)
    first_update: bool  # the first update of this root in this run
    update_s: float
    files: int
    indexed: int
    locate_s: float
    hits: dict[str, bool] = field(default_factory=dict)  # "strict@5", "any@5", ...


@dataclass
class Skip:
    instance_id: str
    repo: str
    reason: str


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def relative_posix(path: object, root: Path) -> str:
    text = str(path).replace("\\", "/")
    if os.path.isabs(text):
        try:
            text = Path(text).relative_to(root).as_posix()
        except ValueError:
            pass
    return text.removeprefix("./")


def score(gold: list[str], paths: list[str]) -> tuple[dict[str, int | None], dict[str, bool]]:
    ranks = {g: paths.index(g) + 1 if g in paths else None for g in gold}
    found = [r for r in ranks.values() if r is not None]
    hits = {}
    for k in KS:
        hits[f"strict@{k}"] = bool(gold) and len(found) == len(gold) and max(found) <= k
        hits[f"any@{k}"] = bool(found) and min(found) <= k
    return ranks, hits


class Runner:
    def __init__(self, api, home: Path, top: int, features: Path | None = None):
        self.api, self.home, self.top, self.features = api, home, top, features
        self.outcomes: list[Outcome] = []
        self.skips: list[Skip] = []
        self._index = None
        self._root: Path | None = None

    def _index_for(self, root: Path):
        """The open index of `root`, opening it (and closing the previous one) on a change of root."""
        if root != self._root:
            self.close()
            self._index = self.api.Index.open(root, home=self.home)
            self._root = root
            return self._index, True
        return self._index, False

    def close(self) -> None:
        if self._index is not None:
            try:
                self._index.close()
            finally:
                self._index, self._root = None, None

    def run_one(self, inst: Instance, source) -> Outcome:
        snapshot = source.checkout(inst)
        index, first = self._index_for(snapshot.root)
        started = time.perf_counter()
        stats = index.update()
        update_s = time.perf_counter() - started
        started = time.perf_counter()
        results = list(self.api.locate(index, inst.problem_statement, top=self.top))
        locate_s = time.perf_counter() - started
        top = [{"path": relative_posix(r.path, snapshot.root), "score": float(r.score)}
               for r in results[: self.top]]
        ranks, hits = score(inst.gold, [t["path"] for t in top])
        if self.features is not None:
            self._write_features(inst, index)
        absent = [g for g in inst.gold if not (snapshot.root / g).is_file()]
        return Outcome(inst.instance_id, inst.repo, snapshot.label, snapshot.match_rule, snapshot.approximate,
                       inst.gold, top, ranks, absent, first, update_s, int(stats.files), int(stats.indexed),
                       locate_s, hits)

    def _write_features(self, inst: Instance, index) -> None:
        from freehold.index.issue import read_issue
        from freehold.index.locate import evidence

        files = index.files()
        found = {files[fid]: feats for fid, feats in evidence(index, read_issue(inst.problem_statement)).items()}
        with self.features.open("a") as out:
            out.write(json.dumps({"instance_id": inst.instance_id, "position": inst.position, "repo": inst.repo,
                                  "gold": inst.gold, "features": found}) + "\n")

    def skip(self, inst: Instance, reason: str) -> None:
        self.skips.append(Skip(inst.instance_id, inst.repo, reason))
        log(f"skip {inst.instance_id}: {reason}")

    def run_repo(self, repo: str, instances: list[Instance], source) -> None:
        if source is None:
            for inst in instances:
                self.skip(inst, "no git mirror or release sources for this repo")
            return
        try:
            source.prepare()
            ordered = source.order(instances)
        except (SkipInstance, OSError, subprocess.SubprocessError) as exc:
            for inst in instances:
                self.skip(inst, f"repo setup failed: {exc}")
            return
        for n, inst in enumerate(ordered, 1):
            try:
                outcome = self.run_one(inst, source)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one bad instance must not end the run
                self.skip(inst, f"{type(exc).__name__}: {first_line(exc)}")
                continue
            self.outcomes.append(outcome)
            log(f"[{repo} {n}/{len(ordered)}] {inst.instance_id} @ {outcome.snapshot}: "
                f"update {outcome.update_s:.2f}s ({outcome.indexed}/{outcome.files} files), "
                f"locate {outcome.locate_s * 1000:.0f} ms, gold ranks {list(outcome.ranks.values())}")


# ---------------------------------------------------------------------------------------------
# Summaries


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(outcomes: list[Outcome], skips: list[Skip]) -> dict[str, dict]:
    """Per repo, then "all": accuracy, counts and times."""
    rows = {}
    for repo in sorted({o.repo for o in outcomes} | {s.repo for s in skips}) + ["all"]:
        chosen = [o for o in outcomes if repo in ("all", o.repo)]
        first = [o for o in chosen if o.first_update]
        later = [o for o in chosen if not o.first_update]
        locate_ms = [o.locate_s * 1000 for o in chosen]
        rows[repo] = {
            "instances": len(chosen),
            "skipped": sum(repo in ("all", s.repo) for s in skips),
            "approximate": sum(o.approximate for o in chosen),
            "gold_absent": sum(bool(o.gold_absent) for o in chosen),
            **{key: sum(o.hits[key] for o in chosen) / len(chosen) if chosen else None for key in HIT_KEYS},
            "first_updates": len(first),
            "first_update_s_median": median([o.update_s for o in first]),
            "first_update_s_max": max((o.update_s for o in first), default=None),
            "first_update_files_median": median([o.files for o in first]),
            "incremental_updates": len(later),
            "incremental_s_median": median([o.update_s for o in later]),
            "incremental_s_max": max((o.update_s for o in later), default=None),
            "incremental_indexed_median": median([o.indexed for o in later]),
            "locate_ms_p50": percentile(locate_ms, 50),
            "locate_ms_p95": percentile(locate_ms, 95),
        }
    return rows


def fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def percent(share: float | None) -> str:
    return fmt(None if share is None else 100 * share, "{:.1f}")


def updates(count: int, median_s: float | None, max_s: float | None, files: float | None, unit: str) -> str:
    return f"{count}: {fmt(median_s, '{:.2f}')} / {fmt(max_s, '{:.2f}')} s, {fmt(files, '{:.0f}')} {unit}"


def table(head: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """A Markdown table, its first `left` columns aligned left and the rest right."""
    align = ["---"] * left + ["---:"] * (len(head) - left)
    return ["| " + " | ".join(cells) + " |" for cells in [head, align, *rows]]


def markdown(summary: dict[str, dict], header: dict) -> str:
    def name(repo: str) -> str:
        return "**all**" if repo == "all" else repo

    accuracy = [[name(repo), str(row["instances"]), str(row["skipped"]), str(row["approximate"]),
                 str(row["gold_absent"]), *(percent(row[key]) for key in HIT_KEYS)]
                for repo, row in summary.items()]
    times = [[name(repo),
              updates(row["first_updates"], row["first_update_s_median"], row["first_update_s_max"],
                      row["first_update_files_median"], "files"),
              updates(row["incremental_updates"], row["incremental_s_median"], row["incremental_s_max"],
                      row["incremental_indexed_median"], "re-parsed"),
              fmt(row["locate_ms_p50"], "{:.0f}"), fmt(row["locate_ms_p95"], "{:.0f}")]
             for repo, row in summary.items()]
    return "\n".join([
        f"# Localization: {header['dataset']} (split {header['split']}, top {header['top']})", "",
        f"Locator `{header['api']}`; index home {'fresh' if header['fresh_home'] else 'reused'}; "
        f"peak RSS {header['peak_rss_mb']:.0f} MB; wall {header['wall_s']:.0f} s.", "",
        *table(["repo", "n", "skipped", "approx", "gold absent",
                *(key.replace("strict", "Acc") for key in HIT_KEYS)], accuracy), "",
        LEGEND, "",
        *table(["repo", "first index of a root: n: median / max, files",
                "incremental updates: n: median / max, median re-parsed", "locate p50 ms", "locate p95 ms"],
               times, left=3), "",
        ANCHORS, "",
    ])


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True, help="JSON lines, one instance a line")
    parser.add_argument("--repos", type=Path, help="git mirrors: DIR/<owner>+<name>/repo")
    parser.add_argument("--releases", type=Path, help="unpacked release sdists (default: REPOS/releases)")
    parser.add_argument("--release-map", type=Path,
                        help="cache of instance -> release (default: RELEASES.json)")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "freehold" / "localize-bench",
                        help="clones and the index home (default: %(default)s)")
    parser.add_argument("--repo", action="append", default=[],
                        help="only this repo (owner/name or name); repeatable")
    parser.add_argument("--limit", type=int, help="at most N instances per repo")
    parser.add_argument("--split", choices=("all", "even", "odd"), default="all",
                        help="instances at even or odd positions in the dataset file")
    parser.add_argument("--top", type=int, default=10, help="results asked of locate (default: %(default)s)")
    parser.add_argument("--api", default="freehold.index", help="module providing Index and locate")
    parser.add_argument("--cold", action="store_true", help="delete the index home first")
    parser.add_argument("--json", type=Path, help="write per-instance results and the summary here")
    parser.add_argument("--markdown", type=Path, help="write the Markdown tables here")
    parser.add_argument("--features", type=Path,
                        help="also write every candidate file's locate features, a JSON line per instance "
                             "(the input of benchmarks/tune_locate.py)")
    args = parser.parse_args(argv)
    if args.releases is None and args.repos is not None:
        args.releases = args.repos / "releases"
    if args.release_map is None and args.releases is not None:
        args.release_map = args.releases.parent / f"{args.releases.name}.json"
    return args


def source_for(repo: str, args: argparse.Namespace, matches: dict[str, dict]):
    mirror = find_mirror(args.repos, repo)
    if mirror is not None:
        return GitSource(mirror, args.work / "clones" / repo.replace("/", "+"))
    releases = find_releases(args.releases, repo)
    return ReleaseSource(releases, matches) if releases else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    api = importlib.import_module(args.api)
    dataset = read_dataset(args.dataset)
    instances = select(dataset, args.repo, args.split, args.limit)
    home = args.work / "index-home"
    if args.cold:
        shutil.rmtree(home, ignore_errors=True)
    fresh_home = not home.exists()
    home.mkdir(parents=True, exist_ok=True)

    by_repo: dict[str, list[Instance]] = defaultdict(list)
    for inst in instances:
        by_repo[inst.repo].append(inst)
    matches = {}
    if args.release_map:  # matched over the whole dataset, so a match never depends on the selection
        release_backed = [i for i in dataset if i.repo in by_repo and find_mirror(args.repos, i.repo) is None]
        matches = load_release_map(release_backed, args.releases, args.release_map)

    if args.features is not None:
        args.features.parent.mkdir(parents=True, exist_ok=True)
        args.features.write_text("")
    runner = Runner(api, home, args.top, args.features)
    try:
        for repo in sorted(by_repo):
            runner.run_repo(repo, by_repo[repo], source_for(repo, args, matches))
            runner.close()
    except KeyboardInterrupt:
        log("interrupted: reporting what has run so far")
    finally:
        runner.close()

    summary = summarize(runner.outcomes, runner.skips)
    header = {"dataset": args.dataset.name, "split": args.split, "top": args.top, "api": args.api,
              "fresh_home": fresh_home, "wall_s": time.perf_counter() - started,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    report = markdown(summary, header)
    print(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**header, "summary": summary,
                                         "instances": [asdict(o) for o in runner.outcomes],
                                         "skipped": [asdict(s) for s in runner.skips]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
