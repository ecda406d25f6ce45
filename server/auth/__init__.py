"""Who may do what: tokens, passwords, sessions, TURN credentials."""
