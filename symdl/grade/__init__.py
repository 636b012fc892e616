"""A person's own form held against a reference: verdicts, witnesses, proofs."""
