"""The CI client (`python -m controller.client`), standard library only so a CI job needs no install;
`signing` is the request signature scheme both sides use."""
