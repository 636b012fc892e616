"""What a result is checked against: references, their inputs and domains, and the registry."""
