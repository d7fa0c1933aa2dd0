"""Organization policy and permission decisions: pure functions of a call and the rules."""
