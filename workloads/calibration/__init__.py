"""Ground-truth cases for measuring the harness's own accuracy: small scripts whose behaviour is
known by construction (`cases.CASES` says what each should be found to be)."""
