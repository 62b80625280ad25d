"""The soak (`python -m sandbox soak`): a plan of rounds drawn from a seed (`plan`, pure), the invariants
checked after each round (`checks`, pure), and the runner that plays the rounds against a live stack."""
