"""One module per stretch of a deployment, each a pure function of (deployment, observed, now, config):
`preprod` (deploy and wait until healthy), `checks` (smoke test, verification), `promotion` (the promote
step, promotion and abort requests), `swap` (the swap and the swap back), `bake` (watching production)."""
