"""Who may do what: API tokens and signed links (votes, sign-in, sessions)."""
