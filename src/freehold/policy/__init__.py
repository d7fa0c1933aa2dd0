"""Organization policy and permission decisions: pure functions of a call and the rules.

    org.py          the organization's policy file: Policy, load_policy, enforce
    command.py      `freehold policy show` / `freehold policy check URL`
    rules.py        Tool(specifier) rules and shell-line splitting
    permissions.py  the permission-mode table: decide(mode, tool, args, workspace) -> Decision
    egress.py       the one egress point: policy check, pinned DNS, no proxy unless the policy's
    redaction.py    Redactor: secrets to stable placeholders and back
"""
