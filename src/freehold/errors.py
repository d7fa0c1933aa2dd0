"""The exceptions Freehold raises, and the exit code each one ends the program with.

    FreeholdError                 exit 1   base; any failure of a run
    ├── UsageError                exit 2   bad flags, bad config file, bad environment value
    ├── PolicyRefused             exit 3   the organization's policy refused the action
    ├── ModelUnreachable          exit 4   the endpoint failed to answer after every retry
    ├── ModelError                exit 1   the endpoint answered, but with an error we cannot retry
    ├── SessionError              exit 2   no such session to resume, or its store is unreadable
    └── Interrupted               exit 130 the person stopped the run (Esc, Ctrl-C)

The command line turns each into one line on stderr and its exit code; nothing else
prints a traceback. Errors the *model* causes (bad tool arguments, unknown tools) are not
exceptions of this tree: they go back to the model as tool results and the run goes on.
"""

from __future__ import annotations


class FreeholdError(Exception):
    exit_code = 1


class UsageError(FreeholdError):
    exit_code = 2


class PolicyRefused(FreeholdError):
    exit_code = 3


class ModelUnreachable(FreeholdError):
    exit_code = 4


class ModelError(FreeholdError):
    exit_code = 1


class SessionError(FreeholdError):
    exit_code = 2


class Interrupted(FreeholdError):
    exit_code = 130
