"""Organization policy and permission decisions: pure functions of a call and the rules.

    permissions.py  the permission-mode table: decide(mode, tool, args, workspace) -> Decision
"""
