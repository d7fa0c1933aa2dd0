"""The permission engine: every tool call is decided here, by rules and then by the mode.

In order; the first step that answers decides:

    1. deny rules    any rule that matches (for a shell line: any part) denies
    2. doubt         a shell line that a deny rule might match but cannot be checked against
                     (a part computed at run time, a line too long or too odd to analyse) asks
    3. ask rules     any rule that matches, or might, asks
    4. plan mode     anything but a read-only tool is denied
    5. allow rules   allow; a shell line only when every part is allowed by some rule
    6. the mode      mode           read tools    file edits    shell commands
                     plan           allow         deny          deny
                     default        allow         ask           ask
                     accept-edits   allow         allow         ask
                     auto           allow         allow         allow
                     Reading outside the workspace asks in every mode but `auto`.

Rules come from the organization's policy, user and project config, flags, and from a person
answering "allow always" during a session; the policy's cannot be overridden, because deny
and ask beat allow wherever a rule comes from. "ask" goes to a person through an `Approver`
(the terminal UI); headless, there is no one, and it is a refusal the model is told about.
Each decision carries what made it, for the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from freehold.policy.rules import Rule, bash_line
from freehold.tools.base import Tool, ToolError, Workspace

Verdict = Literal["allow", "ask", "deny"]
MODES = ("default", "accept-edits", "plan", "auto")


@dataclass(frozen=True)
class SourcedRule:
    verdict: Verdict
    rule: Rule
    origin: str  # "policy /etc/freehold/policy.toml", "user config ...", "flag --allowedTools", "session"

    def describe(self) -> str:
        return f"{self.verdict} rule {self.rule.text} ({self.origin})"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str  # for the model, and for the person asked
    by: str  # what decided, for the audit log


@dataclass(frozen=True)
class Ruling:
    """The final word on one call: whether it runs, what decided, and what the model is told if not."""

    allowed: bool
    by: str
    message: str | None = None


@dataclass
class Permissions:
    mode: str
    workspace: Workspace
    rules: list[SourcedRule] = field(default_factory=list)

    def remember(self, verdict: Verdict, rule: Rule, origin: str = "session, by a person") -> None:
        """A rule added during the session, e.g. when a person answers "allow always"."""
        self.rules.append(SourcedRule(verdict, rule, origin))

    def decide(self, tool: Tool, args: dict[str, Any]) -> Decision:
        rules = [r for r in self.rules if r.rule.covers(tool)]
        if tool.name == "Bash":
            decided = self._shell(rules, args)
        else:
            decided = self._by_rules(rules, tool, args)
        return decided or self._by_mode(tool, args)

    def _by_rules(self, rules: list[SourcedRule], tool: Tool, args: dict[str, Any]) -> Decision | None:
        matching = [r for r in rules if r.rule.matches(tool, args, self.workspace)]
        for verdict in ("deny", "ask"):
            hit = next((r for r in matching if r.verdict == verdict), None)
            if hit is not None:
                return _by_rule(hit, f"{tool.name} is covered by {hit.describe()}")
        if self.mode == "plan" and not tool.read_only:
            return self._plan(tool.name)
        hit = next((r for r in matching if r.verdict == "allow"), None)
        return _by_rule(hit, f"{tool.name} is allowed by {hit.describe()}") if hit else None

    def _shell(self, rules: list[SourcedRule], args: dict[str, Any]) -> Decision | None:
        line = bash_line(args)
        for verdict in ("deny", "ask"):
            for rule in (r for r in rules if r.verdict == verdict):
                for part in line.commands:
                    answer = rule.rule.match_part(part)
                    if answer == "yes":
                        return _by_rule(rule, f"`{part.text}` is covered by {rule.describe()}")
                    if answer == "maybe":
                        return Decision("ask", f"`{part.text}` is built at run time, so it cannot be checked "
                                               f"against {rule.describe()}", f"doubt: {rule.describe()}")
                if line.opaque and rule.rule.specifier is not None:
                    return Decision("ask", f"the command cannot be checked against {rule.describe()}: "
                                           f"{line.opaque}", f"doubt: {rule.describe()}")
        if self.mode == "plan":
            return self._plan("Bash")
        allowed = [r for r in rules if r.verdict == "allow"]
        if allowed and line.commands and not line.opaque:
            by = [next((r for r in allowed if r.rule.match_part(p) == "yes"), None) for p in line.commands]
            if all(by):
                names = ", ".join(dict.fromkeys(r.describe() for r in by if r))
                return Decision("allow", f"every part of the command is allowed ({names})", names)
        return None

    @staticmethod
    def _plan(name: str) -> Decision:
        return Decision("deny", f"'plan' mode allows read-only tools only; {name} changes things", "mode 'plan'")

    def _by_mode(self, tool: Tool, args: dict[str, Any]) -> Decision:
        mode, by = self.mode, f"mode '{self.mode}'"
        if tool.read_only:
            if mode != "auto" and _reaches_outside(args, self.workspace):
                return Decision("ask", f"{tool.name} outside the workspace needs approval in '{mode}' mode", by)
            return Decision("allow", f"{tool.name} is read-only", by)
        if mode == "plan":
            return self._plan(tool.name)
        if mode == "auto" or (mode == "accept-edits" and tool.edits_files):
            return Decision("allow", f"'{mode}' mode allows {tool.name}", by)
        return Decision("ask", f"{tool.name} needs approval in '{mode}' mode", by)


def _by_rule(rule: SourcedRule, reason: str) -> Decision:
    return Decision(rule.verdict, reason, rule.describe())


def _reaches_outside(args: dict[str, Any], workspace: Workspace) -> bool:
    for key in ("file_path", "path"):
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            try:
                if not workspace.contains(workspace.resolve(value)):
                    return True
            except ToolError:
                return False
    return False


# -- asking a person ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    """A person's answer. `remember` holds the rules to add for "allow always" (or "deny always")."""

    allowed: bool
    by: str = "a person"
    note: str | None = None  # told to the model when the answer is no
    remember: tuple[Rule, ...] = ()


class Approver(Protocol):
    def __call__(self, tool: Tool, args: dict[str, Any], decision: Decision) -> Approval: ...


Decide = Callable[[Tool, dict[str, Any]], Ruling]


def gate(permissions: Permissions, approver: Approver | None) -> Decide:
    """The one function the agent loop calls per tool call: the engine, then a person if asked."""

    def check(tool: Tool, args: dict[str, Any]) -> Ruling:
        decision = permissions.decide(tool, args)
        if decision.verdict == "allow":
            return Ruling(True, decision.by)
        if decision.verdict == "deny":
            return Ruling(False, decision.by, f"Permission denied: {decision.reason}.")
        if approver is None:
            return Ruling(False, f"{decision.by}: asks a person, none present (headless)", refusal_message(decision))
        return _answer(permissions, decision, approver(tool, args, decision))

    return check


def _answer(permissions: Permissions, decision: Decision, approval: Approval) -> Ruling:
    for rule in approval.remember:
        permissions.remember("allow" if approval.allowed else "deny", rule, f"session, by {approval.by}")
    by = f"{approval.by} ({'allowed' if approval.allowed else 'denied'}; asked because {decision.by})"
    if approval.remember:
        verdict = "allow" if approval.allowed else "deny"
        by += f"; added session {verdict} rules " + ", ".join(rule.text for rule in approval.remember)
    if approval.allowed:
        return Ruling(True, by)
    note = f" They said: {approval.note}" if approval.note else ""
    return Ruling(False, by, f"Permission denied by the user.{note} Do not retry this call as it was.")


def refusal_message(decision: Decision) -> str:
    """What the model is told when a call that needs a person is made with no one to ask."""
    return (
        f"Permission denied: {decision.reason}, and this run is headless with no one to approve it. "
        "Do not retry this call; use another way, or finish and say what you could not do."
    )


def suggested_rules(tool: Tool, args: dict[str, Any]) -> tuple[Rule, ...]:
    """The rules "allow always" would add: for a shell line, each part's first two words as a
    prefix (`npm test --watch` -> `Bash(npm test:*)`), or none when a part is built at run time
    and no rule could cover it; the tool by name for the rest."""
    if tool.name != "Bash":
        return (Rule.parse(tool.name),)
    line = bash_line(args)
    if line.opaque or not line.commands or any(part.dynamic for part in line.commands):
        return ()
    return tuple(dict.fromkeys(Rule.parse(f"Bash({' '.join(part.words[:2])}:*)") for part in line.commands))


def sourced(verdict: Verdict, texts: Sequence[str], origin: str) -> list[SourcedRule]:
    return [SourcedRule(verdict, Rule.parse(text), origin) for text in texts]
